"""Parse a mapping document and apply it to a record."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
TYPES = ("string", "number", "integer", "boolean", "date", "datetime", "enum")


class MappingError(ValueError):
    """A mapping that cannot be loaded, or a record it cannot map; ``errors`` lists every
    problem as "<where>: <what was expected>"."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


def split_path(path: str) -> list[str | int]:
    """``"address.lines[0]"`` -> ``["address", "lines", 0]``."""
    parts: list[str | int] = []
    for name, index in _SEGMENT.findall(path):
        parts.append(int(index) if index else name)
    return parts


def read_path(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in split_path(path):
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return None
            value = value[part]
        else:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        if value is None:
            return None
    return value


@dataclass(frozen=True)
class FieldSpec:
    name: str
    source: str
    type: str = "string"
    required: bool = False
    default: Any = None
    transforms: tuple[Any, ...] = ()

    def extract(self, record: Mapping[str, Any]) -> Any:
        value = read_path(record, self.source)
        if isinstance(value, str):
            for transform in self.transforms:
                if transform == "trim":
                    value = value.strip()
                elif transform == "lower":
                    value = value.lower()
                elif transform == "upper":
                    value = value.upper()
        if value in (None, "") and self.default is not None:
            value = self.default
        return None if value == "" else value


@dataclass(frozen=True)
class ObjectMapping:
    source: str
    object: str
    object_type: str
    owner_field: str
    owner_property: str
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)
    origin: str = "<memory>"

    @property
    def properties(self) -> tuple[str, ...]:
        """The CRM properties to fetch: the first segment of every source path."""
        seen: dict[str, None] = {}
        for spec in self.fields:
            first = split_path(spec.source)[0]
            seen.setdefault(str(first), None)
        seen.setdefault(self.owner_property, None)
        return tuple(seen)

    def apply(self, record: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        errors: list[str] = []
        for spec in self.fields:
            value = spec.extract(record)
            if value is None and spec.required:
                errors.append(f"field '{spec.name}': required, but '{spec.source}' is empty")
                continue
            values[spec.name] = value
        if errors:
            raise MappingError(errors)
        return values


def parse_mapping(data: Any, origin: str = "<memory>") -> ObjectMapping:
    if not isinstance(data, Mapping):
        raise MappingError([f"{origin}: expected a mapping document (YAML object)"])
    errors = []
    for key in ("source", "object", "owner", "fields"):
        if key not in data:
            errors.append(f"{origin}: missing '{key}'")
    if errors:
        raise MappingError(errors)
    owner = data["owner"] or {}
    specs = []
    for name, spec in (data["fields"] or {}).items():
        if isinstance(spec, str):
            spec = {"source": spec}
        kind = spec.get("type", "string")
        if kind not in TYPES:
            errors.append(f"{origin}: field '{name}': type must be one of {', '.join(TYPES)}")
        specs.append(FieldSpec(name=name, source=spec.get("source", name), type=kind,
                               required=bool(spec.get("required", False)),
                               default=spec.get("default"),
                               transforms=tuple(spec.get("transforms", ()))))
    if errors:
        raise MappingError(errors)
    return ObjectMapping(source=data["source"], object=data["object"],
                         object_type=data.get("object_type", data["object"]),
                         owner_field=owner.get("field", f"{data['object']}_owner"),
                         owner_property=owner.get("property", "owner"),
                         fields=tuple(specs), origin=origin)


def load_mapping_file(path: str | Path) -> ObjectMapping:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise MappingError([f"{path}: not valid YAML: {exc}"]) from None
    return parse_mapping(data, origin=str(path))
