"""Validate a mapping document: YAML syntax, the JSON Schema in ``mappings/schema.json``,
then the checks a schema cannot express. Every problem is a ``MappingIssue`` that names
the file (or version), the line and the field, and says what was expected, because the
people who edit mappings read these messages, not the code."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .transforms import CoercionError, coerce, regex_problem

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "mappings" / "schema.json"

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class MappingIssue:
    """One problem: ``origin:line: field 'x': message`` when printed."""

    origin: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.origin if self.line is None else f"{self.origin}:{self.line}"
        about = f"field '{self.field}': " if self.field else ""
        return f"{where}: {about}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message,
                "text": str(self)}


@lru_cache(maxsize=1)
def schema_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


# -- YAML with line numbers ------------------------------------------------------------

class _Lines:
    """Line numbers (1-based) of the keys and items of a composed YAML document."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def line(self, path: Location) -> int | None:
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in path:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
                if match is None:
                    return line
                line, node = match[0].start_mark.line + 1, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                    and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def _duplicate_keys(node: yaml.Node | None, found: list[tuple[str, int, int]]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in seen:
                found.append((key.value, line, seen[key.value]))
            else:
                seen[key.value] = line
            _duplicate_keys(value, found)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicate_keys(item, found)


#: a mapping file is a few KB; these caps keep any text, from the API, the console or a
#: file, to a bounded amount of work
MAX_YAML_CHARS = 64 * 1024
MAX_YAML_NODES = 10_000
MAX_YAML_DEPTH = 20


def _bounds_issue(text: str, origin: str) -> MappingIssue | None:
    """Refuse, before anything is built, texts that would cost more than a mapping can:
    too long, too many nodes, too deep, or with anchors and aliases (``&a`` / ``*a``),
    with which a few hundred bytes expand into billions of nodes (an alias bomb).
    Scanning YAML events is linear in the text and builds nothing."""
    if len(text) > MAX_YAML_CHARS:
        return MappingIssue(origin, None, None, f"the text is {len(text)} characters "
                                                f"long; at most {MAX_YAML_CHARS}")
    nodes = depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            problem = None
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                problem = "anchors and aliases (&name, *name) are not allowed; write the " \
                          "value out"
            elif isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_YAML_NODES:
                    problem = f"more than {MAX_YAML_NODES} values; a mapping needs far fewer"
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    problem = problem or f"nested deeper than {MAX_YAML_DEPTH} levels"
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if problem:
                return MappingIssue(origin, event.start_mark.line + 1, None, problem)
    except yaml.YAMLError:
        return None  # parse_yaml reports the syntax error with its line
    return None


def parse_yaml(text: str, origin: str) -> tuple[Any, _Lines, list[MappingIssue]]:
    """The document, a line locator, and the syntax problems (duplicate keys included:
    YAML would silently keep the last one)."""
    bounds = _bounds_issue(text, origin)
    if bounds is not None:
        return None, _Lines(None), [bounds]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        if context and not context.startswith("while"):
            problem = f"{context}, {problem}"
        return None, _Lines(None), [MappingIssue(origin, line, None,
                                                 f"not valid YAML: {problem}")]
    lines = _Lines(root)
    duplicates: list[tuple[str, int, int]] = []
    _duplicate_keys(root, duplicates)
    issues = [MappingIssue(origin, line, None, f"duplicate key '{key}' (first on line {first})")
              for key, line, first in duplicates]
    return data, lines, issues


# -- messages ----------------------------------------------------------------------------

def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _split(path: Location) -> tuple[str | None, Location]:
    if len(path) >= 2 and path[0] == "fields":
        return str(path[1]), tuple(path[2:])
    return None, tuple(path)


def _label(rest: Location) -> str:
    out = ""
    i = 0
    while i < len(rest):
        part = rest[i]
        if part == "transforms" and i + 1 < len(rest) and isinstance(rest[i + 1], int):
            out += f"{' ' if out else ''}transform {rest[i + 1] + 1}"
            if i + 2 < len(rest):
                out += f" ({rest[i + 2]})"
            i += 3
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        i += 1
    return out


class _Collector:
    def __init__(self, origin: str, lines: _Lines) -> None:
        self.origin = origin
        self.lines = lines
        self.issues: list[MappingIssue] = []

    def add(self, path: Location, message: str) -> None:
        field, _ = _split(path)
        line = self.lines.line(path)
        self.issues.append(MappingIssue(self.origin, line, field, message))

    def subject(self, path: Location, fallback: str = "the mapping") -> str:
        field, rest = _split(path)
        if rest:
            return _label(rest)
        if field is not None:
            return "the field"
        return _label(path) or fallback


def _schema_issue(error: ValidationError, out: _Collector) -> None:
    path = tuple(error.absolute_path)
    expected = error.schema.get("x-expected") if isinstance(error.schema, dict) else None
    keyword = error.validator
    if keyword == "anyOf" and isinstance(error.instance, dict):
        deeper = [c for c in error.context or () if c.relative_path]
        if deeper:
            _schema_issue(deeper[0], out)
            return
    if keyword == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else error.message
        where = _label(_split(path)[1])
        out.add(path, f"missing '{name}'" + (f" in {where}" if where else ""))
        return
    if keyword == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        for key in [k for k in error.instance if k not in allowed]:
            where = out.subject(path, "")
            prefix = f"{where}: " if where and _split(path)[1] else ""
            out.add(path + (key,), f"{prefix}unknown key '{key}'; expected one of "
                                   f"{', '.join(allowed)}")
        return
    if keyword == "propertyNames" or "propertyNames" in error.absolute_schema_path:
        name = error.instance
        out.add(path + (name,) if isinstance(name, str | int | float | bool) else path,
                f"name is not valid; expected {expected or 'a valid name'}")
        return
    subject = out.subject(path)
    if subject == "the field":
        out.add(path, f"expected {expected or error.message}; got {_shown(error.instance)}")
        return
    out.add(path, f"{subject} must be {expected or error.message}; got {_shown(error.instance)}")


def _semantic_issues(data: Mapping[str, Any], out: _Collector,
                     expected: tuple[str, str] | None, expected_where: str) -> None:
    if expected is not None:
        for key, want in zip(("source", "object"), expected, strict=True):
            if data.get(key) != want:
                out.add((key,), f"{key} must be '{want}' ({expected_where}); "
                                f"got {_shown(data.get(key))}")
    for name, spec in (data.get("fields") or {}).items():
        if not isinstance(spec, Mapping):
            continue
        base: Location = ("fields", name)
        has_one, has_many = "source" in spec, "sources" in spec
        if has_one and has_many:
            out.add(base + ("sources",), "give 'source' or 'sources', not both")
        elif not has_one and not has_many:
            out.add(base, "missing 'source' (the path to read) or 'sources' (several paths "
                          "to join)")
        transforms = list(spec.get("transforms") or ())
        kinds = [next(iter(t)) if isinstance(t, Mapping) else t for t in transforms]
        if has_many and not has_one and "join" not in kinds:
            out.add(base + ("sources",), "'sources' reads several values; add a "
                                         "{join: SEPARATOR} transform to combine them")
        kind = spec.get("type", "string")
        if kind == "enum" and not spec.get("values"):
            out.add(base + ("type",), "type enum needs 'values' (the allowed values)")
        if "values" in spec and kind != "enum":
            out.add(base + ("values",), f"'values' only applies to type enum; got type "
                                        f"'{kind}'")
        for index, transform in enumerate(transforms):
            if not isinstance(transform, Mapping):
                continue
            at = base + ("transforms", index)
            label = f"transform {index + 1}"
            if "regex" in transform:
                problem = regex_problem(transform["regex"])
                if problem:
                    out.add(at + ("regex",), f"{label} (regex) {problem}")
            if "map" in transform:
                for key in transform["map"]:
                    if key is None or isinstance(key, bool):
                        out.add(at + ("map",), f"{label} (map) has a key YAML reads as "
                                               f"{_shown(key)}; put the key in quotes")
        defaults = [t["default"] for t in transforms
                    if isinstance(t, Mapping) and "default" in t]
        if "default" in spec:
            defaults.append(spec["default"])
        values = tuple(spec.get("values") or ())
        for default in defaults:
            if kind == "enum" and not values:
                continue
            try:
                coerce(default, kind, values)
            except CoercionError as exc:
                out.add(base + ("default",), f"default {_shown(default)} does not fit type "
                                             f"'{kind}': expected {exc.expected}")


def validate_document(data: Any, lines: _Lines | None = None, *, origin: str = "<memory>",
                      expected: tuple[str, str] | None = None,
                      expected_where: str = "the mapping being edited") -> list[MappingIssue]:
    """Schema problems first (in document order), then semantic ones when the shape is
    right. ``expected`` is the (source, object) the document must declare."""
    out = _Collector(origin, lines or _Lines(None))
    errors = sorted(schema_validator().iter_errors(data),
                    key=lambda e: (out.lines.line(tuple(e.absolute_path)) or 0,
                                   list(map(str, e.absolute_path))))
    for error in errors:
        _schema_issue(error, out)
    if not out.issues and isinstance(data, Mapping):
        _semantic_issues(data, out, expected, expected_where)
    return sorted(out.issues, key=lambda i: i.line or 0)


def validate_text(text: str, origin: str = "<memory>", *,
                  expected: tuple[str, str] | None = None,
                  expected_where: str = "the mapping being edited"
                  ) -> tuple[Any, list[MappingIssue]]:
    """Parse and validate YAML text; returns the data and every problem found."""
    data, lines, issues = parse_yaml(text, origin)
    if issues and data is None:
        return None, issues
    if data is None:
        return None, [MappingIssue(origin, 1, None, "the document is empty; expected a "
                                                    "mapping with source, object, owner "
                                                    "and fields")]
    return data, issues + validate_document(data, lines, origin=origin, expected=expected,
                                            expected_where=expected_where)
