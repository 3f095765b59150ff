"""Transforms and type conversion of one field's value.

Transforms run in the order the mapping lists them; text transforms on a list apply to
each item. Conversion runs last and turns the value into what triggers compare: numbers
as int/float, booleans as bool, dates as ``YYYY-MM-DD`` and datetimes as ISO 8601 UTC
(``...Z``) text. Epoch numbers (HubSpot sends milliseconds) are read as milliseconds from
1e11 upwards and as seconds below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import re2

TYPES = ("string", "number", "integer", "boolean", "date", "datetime", "enum")
TEXT_TRANSFORMS = ("trim", "lower", "upper")

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


class CoercionError(ValueError):
    """A value that does not fit the field's type; ``expected`` says what would."""

    def __init__(self, expected: str, value: Any) -> None:
        self.expected = expected
        self.value = value
        super().__init__(f"expected {expected}")


def is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list) and not value)


def _each(value: Any, fn) -> Any:
    if isinstance(value, list):
        return [fn(v) if isinstance(v, str) else v for v in value]
    return fn(value) if isinstance(value, str) else value


def _map_key(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    return str(value)


#: the longest pattern a mapping may hold, and how much of a value a regex looks at: a
#: CRM field comes from strangers' web forms, and even a linear engine should not read
#: megabytes per field
MAX_PATTERN_CHARS = 1000
MAX_REGEX_INPUT = 10_000


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is reported to the editor, not stderr
    return options


def compile_regex(pattern: str) -> Any:
    """Mapping regexes run on RE2, whose matching time is linear in the input: a
    backtracking engine takes seconds on ``^(a+)+$`` against 30 characters. RE2 refuses
    what it cannot run in linear time (backreferences, lookaround); see
    ``regex_problem``."""
    return re2.compile(pattern, _re2_options())


def regex_problem(pattern: Any) -> str | None:
    """Why ``pattern`` cannot be a mapping regex (None when it can)."""
    if not isinstance(pattern, str):
        return "must be text"
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"is {len(pattern)} characters long; at most {MAX_PATTERN_CHARS}"
    try:
        re.compile(pattern)  # its messages say where a pattern is broken
    except re.error as exc:
        return f"is not a valid regular expression: {exc}"
    try:
        compile_regex(pattern)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        reason = reason.decode(errors="replace") if isinstance(reason, bytes) else reason
        return (f"cannot be used: {reason}. Mapping regexes run on RE2 (linear time), "
                "which has no backreferences or lookaround")
    return None


def compile_transform(spec: Any) -> tuple[str, Any]:
    """A transform as written in the file -> (kind, ready argument)."""
    if isinstance(spec, str):
        return spec, None
    (kind, arg), = spec.items()
    if kind == "regex":
        return kind, compile_regex(arg)
    if kind == "map":
        return kind, {_map_key(k): v for k, v in arg.items()}
    return kind, arg


def apply_transform(kind: str, arg: Any, value: Any) -> Any:
    if kind == "trim":
        return _each(value, str.strip)
    if kind == "lower":
        return _each(value, str.lower)
    if kind == "upper":
        return _each(value, str.upper)
    if kind == "default":
        return arg if is_empty(value) else value
    if kind == "map":
        if isinstance(value, list):
            return [arg.get(_map_key(v), v) for v in value]
        return value if is_empty(value) else arg.get(_map_key(value), value)
    if kind == "regex":
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = _text(value)
        return _each(value, lambda text: _extract(arg, text))
    if kind == "join":
        if isinstance(value, list):
            parts = [_text(v) for v in value if not is_empty(v)]
            return arg.join(parts) if parts else None
        return value
    if kind == "split":
        if isinstance(value, str):
            return [p.strip() for p in value.split(arg) if p.strip()]
        return value
    raise ValueError(f"unknown transform '{kind}'")


def _extract(pattern: Any, text: str) -> str | None:
    match = pattern.search(text[:MAX_REGEX_INPUT])
    if match is None:
        return None
    return match.group(1) if pattern.groups else match.group(0)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CoercionError("a number", value)
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise CoercionError("a number", value) from None
        if number.is_finite():
            return number
    raise CoercionError("a number", value)


def _instant(value: Any, expected: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) >= 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return _instant(float(text), expected)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CoercionError(expected, value) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise CoercionError(expected, value)


def coerce(value: Any, kind: str, values: Sequence[str] = ()) -> Any:
    """Convert one non-empty value (or each item of a list) to ``kind``."""
    if isinstance(value, list):
        return [coerce(v, kind, values) for v in value]
    if isinstance(value, Mapping):
        raise CoercionError(_EXPECTED.get(kind, kind), value)
    if kind == "string":
        return _text(value)
    if kind == "number":
        number = _number(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "integer":
        try:
            number = _number(value)
        except CoercionError:
            raise CoercionError("a whole number", value) from None
        if number != number.to_integral_value():
            raise CoercionError("a whole number", value)
        return int(number)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = _text(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise CoercionError("true or false", value)
    if kind == "date":
        return _instant(value, _EXPECTED["date"]).astimezone(UTC).date().isoformat()
    if kind == "datetime":
        moment = _instant(value, _EXPECTED["datetime"]).astimezone(UTC)
        return moment.isoformat().replace("+00:00", "Z")
    if kind == "enum":
        text = _text(value).strip()
        for allowed in values:
            if allowed.casefold() == text.casefold():
                return allowed
        raise CoercionError(f"one of {', '.join(values)}", value)
    raise ValueError(f"unknown type '{kind}'")


_EXPECTED = {
    "string": "text", "number": "a number", "integer": "a whole number",
    "boolean": "true or false", "date": "a date (YYYY-MM-DD or epoch milliseconds)",
    "datetime": "a date and time (ISO 8601 or epoch milliseconds)", "enum": "one of the values",
}
