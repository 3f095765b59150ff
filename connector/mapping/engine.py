"""Parse a mapping document and apply it to a record."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .transforms import TYPES, CoercionError, apply_transform, coerce, compile_transform, is_empty
from .validation import MappingIssue, validate_document, validate_text

__all__ = ["TYPES", "FieldSpec", "MappingError", "ObjectMapping", "load_mapping_file",
           "parse_mapping", "parse_mapping_text", "read_path", "split_path"]

SOURCES = ("hubspot", "salesforce")
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class MappingError(ValueError):
    """A mapping that cannot be loaded, or a record it cannot map. ``errors`` lists every
    problem as text ("<file>:<line>: field 'x': <what was expected>"); ``issues`` holds
    the same problems as ``MappingIssue`` (line, field, message) when they come from a
    document."""

    def __init__(self, errors: list[str], issues: list[MappingIssue] | None = None) -> None:
        self.errors = list(errors)
        self.issues = list(issues or [])
        super().__init__("; ".join(self.errors))

    def __reduce__(self):
        return (type(self), (self.errors, self.issues))

    @classmethod
    def from_issues(cls, issues: list[MappingIssue]) -> MappingError:
        return cls([str(i) for i in issues], issues)


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
    """One routing field. ``sources`` (several paths) is set instead of ``source`` when
    the field joins several record values."""

    name: str
    source: str
    type: str = "string"
    required: bool = False
    default: Any = None
    transforms: tuple[Any, ...] = ()
    sources: tuple[str, ...] = ()
    values: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        return self.sources or (self.source,)

    def _compiled(self) -> tuple[tuple[str, Any], ...]:
        compiled = self.__dict__.get("_compiled_cache")
        if compiled is None:
            compiled = tuple(compile_transform(t) for t in self.transforms)
            object.__setattr__(self, "_compiled_cache", compiled)
        return compiled

    def extract(self, record: Mapping[str, Any]) -> Any:
        """The transformed value before type conversion; None when empty."""
        if self.sources:
            value: Any = [read_path(record, p) for p in self.sources]
        else:
            value = read_path(record, self.source)
        for kind, arg in self._compiled():
            value = apply_transform(kind, arg, value)
        if is_empty(value) and self.default is not None:
            value = self.default
        if isinstance(value, list) and all(is_empty(v) for v in value):
            return None
        return None if is_empty(value) else value

    def map_value(self, record: Mapping[str, Any]) -> Any:
        """The field's final value; raises ``CoercionError`` when the type does not fit."""
        value = self.extract(record)
        if value is None:
            return None
        return coerce(value, self.type, self.values)

    def describe_source(self) -> str:
        return ", ".join(f"'{p}'" for p in self.paths)


@dataclass(frozen=True)
class ObjectMapping:
    source: str
    object: str
    object_type: str
    owner_field: str
    owner_property: str
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)
    origin: str = "<memory>"
    #: 0 for the default file, N for the N-th version saved in the database, None for
    #: a draft that is not saved
    version: int | None = 0

    @property
    def identity(self) -> str:
        """Which mapping and version this is, as record errors name it:
        ``hubspot/contact v3``, ``hubspot/contact v0 (default file)`` or ``... (draft)``."""
        name = f"{self.source}/{self.object}"
        if self.version is None:
            return f"{name} (draft)"
        return f"{name} v{self.version}" + (" (default file)" if self.version == 0 else "")

    @property
    def properties(self) -> tuple[str, ...]:
        """The CRM properties to fetch, each once: the first segment of every source
        path, then the owner property."""
        seen: dict[str, None] = {}
        for spec in self.fields:
            for path in spec.paths:
                seen.setdefault(str(split_path(path)[0]), None)
        seen.setdefault(self.owner_property, None)
        return tuple(seen)

    def apply(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """``{field: value}`` for a record's properties. Raises ``MappingError`` naming
        every field that is required but empty, or whose value does not fit its type; each
        error starts with the mapping's identity and version, so an error stored with a
        failed event says which version produced it."""
        values: dict[str, Any] = {}
        errors: list[str] = []
        for spec in self.fields:
            try:
                value = spec.map_value(record)
            except CoercionError as exc:
                errors.append(f"{self.identity}: field '{spec.name}': expected "
                              f"{exc.expected}; got "
                              f"{exc.value!r} (from {spec.describe_source()})")
                continue
            if value is None and spec.required:
                errors.append(f"{self.identity}: field '{spec.name}': required, but "
                              f"{spec.describe_source()} "
                              f"{'is' if len(spec.paths) == 1 else 'are'} empty")
                continue
            values[spec.name] = value
        if errors:
            raise MappingError(errors)
        return values


def build_mapping(data: Mapping[str, Any], origin: str,
                  version: int | None = 0) -> ObjectMapping:
    """An ``ObjectMapping`` from a document that passed validation."""
    owner = data["owner"]
    specs = []
    for name, spec in data["fields"].items():
        if isinstance(spec, str):
            spec = {"source": spec}
        sources = tuple(spec.get("sources") or ())
        specs.append(FieldSpec(
            name=name, source=spec.get("source") or (sources[0] if sources else name),
            type=spec.get("type", "string"), required=bool(spec.get("required", False)),
            default=spec.get("default"), transforms=tuple(spec.get("transforms") or ()),
            sources=sources, values=tuple(spec.get("values") or ())))
    return ObjectMapping(source=data["source"], object=data["object"],
                         object_type=data.get("object_type", data["object"]),
                         owner_field=owner["field"], owner_property=owner["property"],
                         fields=tuple(specs), origin=origin, version=version)


def parse_mapping(data: Any, origin: str = "<memory>", *, version: int = 0) -> ObjectMapping:
    """A mapping from an already-loaded document (no line numbers in the errors)."""
    issues = validate_document(data, origin=origin)
    if issues:
        raise MappingError.from_issues(issues)
    return build_mapping(data, origin, version)


def parse_mapping_text(text: str, origin: str = "<memory>", *, version: int | None = 0,
                       expected: tuple[str, str] | None = None,
                       expected_where: str = "the mapping being edited") -> ObjectMapping:
    """A mapping from YAML text; errors carry line numbers. ``expected`` is the
    (source, object) the text must declare."""
    data, issues = validate_text(text, origin, expected=expected,
                                 expected_where=expected_where)
    if issues:
        raise MappingError.from_issues(issues)
    return build_mapping(data, origin, version)


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is inside it (shorter errors)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_mapping_file(path: str | Path) -> ObjectMapping:
    """Load and validate a file. In a folder named after a source it must declare that
    source and its own file name as object (``hubspot/contact.yaml``)."""
    path = Path(path)
    origin = display_path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise MappingError([f"{origin}: cannot read: {exc.strerror}"]) from None
    expected = (path.parent.name, path.stem) if path.parent.name in SOURCES else None
    return parse_mapping_text(text, origin, expected=expected,
                              expected_where="the folder and name of the file")
