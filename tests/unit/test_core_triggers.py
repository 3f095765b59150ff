from datetime import date

import pytest

from connector.core.model import Condition, ConditionGroup, Trigger
from connector.core.triggers import (
    InvalidCondition,
    check_condition,
    condition_matches,
    evaluate,
)

RECORD = {"country": " Germany ", "employees": "250", "revenue": 1_500_000.5,
          "email": "ada@Example.com", "created": "2026-03-01T10:00:00Z",
          "tags": "a;b;c", "empty": "", "flag": True, "signup": date(2026, 1, 15)}


@pytest.mark.parametrize("field,op,value,expected", [
    ("country", "equals", "germany", True),
    ("country", "equals", "France", False),
    ("country", "not_equals", "France", True),
    ("missing", "not_equals", "France", True),
    ("email", "contains", "EXAMPLE", True),
    ("email", "not_contains", "gmail", True),
    ("email", "starts_with", "ADA@", True),
    ("email", "ends_with", ".com", True),
    ("email", "ends_with", ".org", False),
    ("country", "in", ["France", "germany"], True),
    ("country", "in", "France, Germany", True),
    ("country", "not_in", ["France", "Spain"], True),
    ("country", "not_in", ["germany"], False),
    ("country", "is_known", None, True),
    ("empty", "is_known", None, False),
    ("empty", "is_unknown", None, True),
    ("missing", "is_unknown", None, True),
    ("employees", "gt", 99, True),          # "250" compares as a number, not as text
    ("employees", "gt", "1000", False),
    ("employees", "gte", 250, True),
    ("employees", "lt", 1000, True),
    ("employees", "lte", 249, False),
    ("revenue", "between", [1_000_000, 2_000_000], True),
    ("revenue", "between", [0, 1_000_000], False),
    ("created", "gt", "2026-02-28", True),  # dates compare as instants
    ("created", "lt", "2026-03-01T09:00:00-02:00", True),
    ("signup", "between", ["2026-01-01", "2026-01-31"], True),
    ("missing", "gt", 1, False),
    ("tags", "equals", "b", True),           # multi-value checkbox field
    ("tags", "in", ["x", "c"], True),
    ("flag", "equals", "true", True),
    ("flag", "equals", "false", False),
])
def test_operator(field, op, value, expected):
    assert condition_matches(Condition(field, op, value), RECORD) is expected


def test_unknown_operator_is_rejected():
    with pytest.raises(InvalidCondition, match="unknown operator 'near'"):
        condition_matches(Condition("country", "near", "x"), RECORD)


def test_between_needs_a_pair():
    with pytest.raises(InvalidCondition, match=r"\[low, high\]"):
        condition_matches(Condition("revenue", "between", 5), RECORD)


def test_groups_combine_with_all_and_any():
    de = Condition("country", "equals", "Germany")
    big = Condition("employees", "gte", 1000)
    fr = Condition("country", "equals", "France")
    trigger = Trigger(groups=(ConditionGroup((de, big), "all"), ConditionGroup((de, fr), "any")),
                      match="any")
    result = evaluate(trigger, RECORD)
    assert result.matched and result.matched_groups == (1,)
    assert not evaluate(Trigger(trigger.groups, match="all"), RECORD).matched


def test_empty_trigger_matches_everything():
    assert evaluate(Trigger(), {}).matched


@pytest.mark.parametrize("actual", ["NaN", "nan", "sNaN", "-sNaN", "Infinity", "-Infinity",
                                    "inf", float("nan"), float("inf")])
@pytest.mark.parametrize("op,value", [("gt", 5), ("gte", "5"), ("lt", 5), ("lte", 5),
                                      ("between", [1, 10]), ("equals", 5), ("in", [5, 6])])
def test_non_finite_field_values_are_not_numbers(actual, op, value):
    """They neither raise nor pass for a number: they compare as text."""
    fields = {"revenue": actual}
    assert condition_matches(Condition("revenue", op, value), fields) in (True, False)
    assert not condition_matches(Condition("revenue", "equals", 5), fields)
    assert condition_matches(Condition("revenue", "is_known", None), fields)


def test_non_finite_text_still_matches_as_text():
    assert condition_matches(Condition("revenue", "equals", "nan"), {"revenue": "NaN"})
    assert not condition_matches(Condition("revenue", "gt", 5), {"revenue": "-Infinity"})


@pytest.mark.parametrize("op,value", [
    ("between", [1, 2]), ("between", ["2026-01-01", "2026-02-01"]), ("in", ["a", 1]),
    ("in", "a, b"), ("not_in", [True]), ("is_known", None), ("is_unknown", ""),
    ("gt", 1.5), ("gte", "10"), ("lt", "2026-01-01"), ("equals", "x"), ("contains", 3),
])
def test_check_condition_accepts_values_that_fit(op, value):
    check_condition(op, value)


@pytest.mark.parametrize("op,value,message", [
    ("between", 5, r"\[low, high\] pair"),
    ("between", [1, "2026-01-01"], "two numbers or two dates"),
    ("between", [float("nan"), 1], "two numbers or two dates"),
    ("between", [3, 2], "low <= high"),
    ("in", [], "non-empty list"), ("not_in", {"a": 1}, "non-empty list"),
    ("is_unknown", 0, "takes no value"),
    ("gt", "NaN", "number or a date"), ("lt", "Infinity", "number or a date"),
    ("equals", None, "one text, number or boolean"), ("ends_with", {}, "one text"),
    ("near", 1, "unknown operator 'near'"),
])
def test_check_condition_refuses_values_that_do_not_fit(op, value, message):
    with pytest.raises(InvalidCondition, match=message):
        check_condition(op, value)
