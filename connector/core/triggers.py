"""Trigger evaluation: conditions in all/any groups over a record's mapped fields.

Comparison is typed: numbers compare as numbers, ISO dates and datetimes as instants,
everything else as case-insensitive trimmed strings. A condition on a field the record
lacks is false, except ``is_unknown`` and the negative operators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .model import Condition, ConditionGroup, Trigger

OPERATORS = (
    "equals", "not_equals", "contains", "not_contains", "starts_with", "ends_with",
    "in", "not_in", "is_known", "is_unknown", "gt", "gte", "lt", "lte", "between",
)


class InvalidCondition(ValueError):
    """A condition that can never be evaluated (unknown operator, wrong value shape)."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _as_number(value: Any) -> Decimal | None:
    """A finite number, or None. "NaN", "sNaN" and "Infinity" parse as decimals but cannot
    be ordered (comparing a NaN raises), so they count as text, not as numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def _as_instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _text(value: Any) -> str:
    return str(value).strip().casefold()


def _compare(left: Any, right: Any) -> int | None:
    """-1/0/1 comparing typed values, or None when they cannot be ordered."""
    for convert in (_as_number, _as_instant):
        a, b = convert(left), convert(right)
        if a is not None and b is not None:
            return (a > b) - (a < b)
    if isinstance(left, bool) or isinstance(right, bool):
        return 0 if _text(left) == _text(right) else None
    a, b = _text(left), _text(right)
    return (a > b) - (a < b)


def _equal(left: Any, right: Any) -> bool:
    return _compare(left, right) == 0


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return [value]


def _ordered(op: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    def check(actual: Any, expected: Any) -> bool:
        if _blank(actual):
            return False
        result = _compare(actual, expected)
        return result is not None and op(result)

    return check


def _pair(expected: Any) -> tuple[Any, Any]:
    if not isinstance(expected, list | tuple) or len(expected) != 2:
        raise InvalidCondition("'between' needs a [low, high] pair")
    return expected[0], expected[1]


def _between(actual: Any, expected: Any) -> bool:
    low_value, high_value = _pair(expected)
    if _blank(actual):
        return False
    low, high = _compare(actual, low_value), _compare(actual, high_value)
    return low is not None and high is not None and low >= 0 and high <= 0


def _values(actual: Any) -> list[Any]:
    """A multi-value field (list, or HubSpot's ';'-joined checkbox string) as a list."""
    if isinstance(actual, list | tuple):
        return list(actual)
    if isinstance(actual, str) and ";" in actual:
        return [p for p in actual.split(";") if p]
    return [actual]


_CHECKS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda a, e: not _blank(a) and any(_equal(v, e) for v in _values(a)),
    "not_equals": lambda a, e: _blank(a) or not any(_equal(v, e) for v in _values(a)),
    "contains": lambda a, e: not _blank(a) and _text(e) in _text(a),
    "not_contains": lambda a, e: _blank(a) or _text(e) not in _text(a),
    "starts_with": lambda a, e: not _blank(a) and _text(a).startswith(_text(e)),
    "ends_with": lambda a, e: not _blank(a) and _text(a).endswith(_text(e)),
    "in": lambda a, e: not _blank(a)
    and any(_equal(v, x) for v in _values(a) for x in _as_list(e)),
    "not_in": lambda a, e: _blank(a)
    or not any(_equal(v, x) for v in _values(a) for x in _as_list(e)),
    "is_known": lambda a, e: not _blank(a),
    "is_unknown": lambda a, e: _blank(a),
    "gt": _ordered(lambda r: r > 0),
    "gte": _ordered(lambda r: r >= 0),
    "lt": _ordered(lambda r: r < 0),
    "lte": _ordered(lambda r: r <= 0),
    "between": _between,
}


def check_operator(operator: str) -> None:
    if operator not in _CHECKS:
        raise InvalidCondition(f"unknown operator '{operator}', use one of "
                               f"{', '.join(OPERATORS)}")


def _scalar(value: Any) -> bool:
    if isinstance(value, float):
        return _as_number(value) is not None
    return isinstance(value, str | int | Decimal)


def _orderable(value: Any) -> str | None:
    """'number' or 'date' when ``value`` can be ordered as one, else None."""
    if _as_number(value) is not None:
        return "number"
    if _as_instant(value) is not None:
        return "date"
    return None


def check_condition(operator: str, value: Any) -> None:
    """Raise ``InvalidCondition`` unless ``value`` fits ``operator``.

    Routers are checked with this before they are saved, so every stored condition can be
    evaluated; evaluation itself stays lenient about what was stored before these rules.
    """
    check_operator(operator)
    if operator in ("is_known", "is_unknown"):
        if value is not None and value != "":
            raise InvalidCondition(f"'{operator}' takes no value")
    elif operator == "between":
        low, high = _pair(value)
        kinds = {_orderable(low), _orderable(high)}
        if None in kinds or len(kinds) != 1:
            raise InvalidCondition("'between' needs a [low, high] pair of two numbers or "
                                   "two dates")
        if _compare(low, high) == 1:
            raise InvalidCondition("'between' needs low <= high")
    elif operator in ("gt", "gte", "lt", "lte"):
        if _orderable(value) is None:
            raise InvalidCondition(f"'{operator}' needs a number or a date")
    elif operator in ("in", "not_in"):
        items = _as_list(value) if isinstance(value, list | str) else None
        if not items or not all(_scalar(v) for v in items):
            raise InvalidCondition(f"'{operator}' needs a non-empty list of values")
    elif value is None or value == "" or not _scalar(value):
        raise InvalidCondition(f"'{operator}' needs one text, number or boolean value")


def condition_matches(condition: Condition, fields: Mapping[str, Any]) -> bool:
    check_operator(condition.operator)
    return _CHECKS[condition.operator](fields.get(condition.field), condition.value)


def _combine(match: str, results: list[bool]) -> bool:
    return all(results) if match == "all" else any(results)


@dataclass(frozen=True)
class TriggerResult:
    matched: bool
    matched_groups: tuple[int, ...]


def evaluate(trigger: Trigger, fields: Mapping[str, Any]) -> TriggerResult:
    """Which groups match, and whether the trigger as a whole does."""
    if not trigger.groups:
        return TriggerResult(True, ())
    group_results = [_group_matches(g, fields) for g in trigger.groups]
    matched = tuple(i for i, ok in enumerate(group_results) if ok)
    return TriggerResult(_combine(trigger.match, group_results), matched)


def _group_matches(group: ConditionGroup, fields: Mapping[str, Any]) -> bool:
    if not group.conditions:
        return True
    return _combine(group.match, [condition_matches(c, fields) for c in group.conditions])
