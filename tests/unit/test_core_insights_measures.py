"""The pure rules behind the routing measures: when an SLA clock counts as met, and which
activity times an assignment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connector.core.insights import RoutingFact, SlaFact, routing_measures, sla_state

T = datetime(2026, 12, 1, 9, tzinfo=UTC)
M = timedelta(minutes=1)


def test_a_clock_stopped_at_its_deadline_is_met_and_one_running_past_it_is_breached():
    deadline = T + 15 * M
    assert sla_state(SlaFact("r", "o", T, deadline, stopped_at=deadline), T + 60 * M) == "met"
    assert sla_state(SlaFact("r", "o", T, deadline, stopped_at=deadline + M),
                     T) == "breached"
    assert sla_state(SlaFact("r", "o", T, deadline, stopped_at=T + M, breached_at=T + M),
                     T) == "breached"
    assert sla_state(SlaFact("r", "o", T, deadline), deadline) == "open"
    assert sla_state(SlaFact("r", "o", T, deadline), deadline + M) == "breached"


def test_each_owner_is_timed_by_the_first_touch_in_their_own_turn():
    facts = [RoutingFact("a", "r", "o", "jane", T, True),
             RoutingFact("b", "r", "o", "bob", T + 10 * M, True)]
    # a touch exactly at the reassignment belongs to the new owner
    touches = {"o": [T + 10 * M, T + 12 * M, T - M]}
    totals, groups = routing_measures(facts, touches, [], group_by="rep", now=T)
    assert groups["jane"]["touched"] == 0 and groups["jane"]["reassignments"] == 0
    assert groups["bob"]["touched"] == 1 and groups["bob"]["reassignments"] == 1
    assert groups["bob"]["speed_to_lead_seconds"] == {"p50": 0.0, "p90": 0.0}
    assert totals["assigned"] == 2 and totals["unassigned_rate"] == 0.0
