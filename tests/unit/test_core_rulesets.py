"""Rulesets in the core (the first matching rule wins, else the default rule) and the
arithmetic of routing insights (fair shares, available hours, percentiles)."""

from __future__ import annotations

from datetime import UTC, datetime

from connector.core.insights import available_hours, fair_shares, percentile
from connector.core.model import Condition, ConditionGroup, Rep, RepStatus, TimeRange, Trigger
from connector.core.rulesets import (
    ASSIGN_REP,
    SET_FIELD,
    Action,
    Rule,
    Ruleset,
    apply_set_fields,
    first_match,
)


def _when(field: str, operator: str, value=None) -> Trigger:
    return Trigger((ConditionGroup((Condition(field, operator, value),)),))


RULESET = Ruleset("rs", 3, (
    Rule("r1", "Enterprise", _when("employees", "gte", 1000),
         (Action(ASSIGN_REP, {"rep_id": "a"}),)),
    Rule("r2", "Nordics", _when("country", "in", ["NO", "SE"]),
         (Action(SET_FIELD, {"field": "region", "value": "EMEA"}),
          Action(ASSIGN_REP, {"rep_id": "b"}))),
), default_actions=(Action(ASSIGN_REP, {"rep_id": "c"}),))


def test_the_first_matching_rule_wins_and_later_rules_are_not_evaluated():
    match = first_match(RULESET, {"employees": "5000", "country": "no"})
    assert (match.rule_id, match.assignment.params["rep_id"]) == ("r1", "a")
    assert match.checked == ({"rule_id": "r1", "matched": True, "matched_groups": [0]},)


def test_a_later_rule_matches_when_earlier_ones_do_not():
    match = first_match(RULESET, {"employees": 10, "country": "SE"})
    assert match.rule_id == "r2" and not match.is_default
    assert apply_set_fields(match.actions, {"country": "SE"}) == {"country": "SE",
                                                                   "region": "EMEA"}


def test_the_default_rule_decides_when_nothing_matches():
    match = first_match(RULESET, {"country": "US"})
    assert match.is_default and match.assignment.params["rep_id"] == "c"
    assert [c["matched"] for c in match.checked] == [False, False]
    assert match.reason()["default"] is True


def test_a_ruleset_without_rules_or_default_assigns_nobody():
    match = first_match(Ruleset("rs", 1, ()), {})
    assert match.is_default and match.assignment is None


def test_fair_share_is_by_weight_times_hours_available():
    shares = fair_shares(90, {"a": 2, "b": 1, "c": 1}, {"a": 10, "b": 10, "c": 0})
    assert shares == {"a": 60.0, "b": 30.0, "c": 0.0}
    assert fair_shares(4, {"a": 1, "b": 1}, {"a": 0, "b": 0}) == {"a": 2.0, "b": 2.0}


def test_available_hours_follow_working_hours_not_the_current_status():
    rep = Rep("a", "a@x", status=RepStatus.UNAVAILABLE,
              working_hours={0: (TimeRange("09:00", "17:00"),)})
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    assert available_hours(rep, monday, datetime(2026, 12, 7, tzinfo=UTC)) == 8.0


def test_percentiles_interpolate():
    assert percentile([10, 30], 50) == 20 and percentile([10, 30], 90) == 28
    assert percentile([], 50) is None
