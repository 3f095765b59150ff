"""Console pieces without a server: decision reasons as sentences, the assignments chart,
the sign-in throttle."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from connector.web.admin.chart import per_rep_per_day, svg
from connector.web.admin.explain import explain

SETTINGS = {"trigger": {"match": "any", "groups": [
    {"match": "all", "conditions": [{"field": "country", "operator": "in",
                                     "value": ["DE", "AT"]},
                                    {"field": "employees", "operator": "gte", "value": "50"}]},
    {"match": "any", "conditions": [{"field": "email", "operator": "is_known"}]}]}}
NAMES = {"jane@x.example": "Jane Doe <jane@x.example>", "bob@x.example": "Bob <bob@x.example>"}


def reason(**values):
    base = {"outcome": "assigned", "message": "", "model": "round_robin",
            "matched_groups": [], "skipped": [], "picked": None, "via_backup": False,
            "note": ""}
    return {**base, **values}


def test_assignment_names_the_rep_the_matched_group_the_model_and_who_was_skipped():
    why = explain(reason(picked="jane@x.example", matched_groups=[0], model="weighted",
                         skipped=[{"rep_id": "b", "email": "bob@x.example",
                                   "reason": "out of office"}]), SETTINGS, NAMES)
    assert why.headline == "Assigned to Jane Doe <jane@x.example>."
    assert why.steps[0] == ("The trigger matched group 1 (country is one of 'DE, AT' and "
                            "employees is at least '50').")
    assert why.steps[1].startswith("Picked by weighted rotation")
    assert why.skipped == [("Bob <bob@x.example>", "out of office")]


def test_backup_assignment_says_no_one_was_available():
    why = explain(reason(picked="bob@x.example", via_backup=True, matched_groups=[1]),
                  SETTINGS, NAMES)
    assert why.headline == ("Assigned to Bob <bob@x.example>, the backup user, because no "
                            "one in the router was available.")
    assert "group 2 (email is known)" in why.steps[0]


def test_trigger_miss_lists_every_group_the_record_would_need():
    why = explain(reason(outcome="trigger_not_matched"), SETTINGS, NAMES)
    assert why.headline == "Not routed: the record did not match the router's trigger."
    assert why.steps == ["The trigger needs any of these groups to match:",
                         "group 1: country is one of 'DE, AT' and employees is at least '50'",
                         "group 2: email is known"]


def test_other_refusals_read_as_sentences():
    assert explain(reason(outcome="cannot_overwrite",
                          note="the current owner jane@x.example is available"), SETTINGS,
                   NAMES).steps == ["Detail: the current owner jane@x.example is available."]
    assert explain(reason(outcome="limit_reached"), {}, NAMES).headline.startswith(
        "Not routed: every available user has reached their daily or weekly cap")
    assert explain(reason(outcome="no_users_available"), None, NAMES).steps == [
        "The router has no trigger conditions, so every record qualifies."]
    assert explain(reason(outcome="router_unpublished", message="The router is unpublished"),
                   None, NAMES).headline == "Not routed: The router is unpublished."


def test_chart_counts_assignments_per_rep_per_day_within_the_window():
    when = [("jane@x.example", datetime(2026, 3, 9, 23, 59, tzinfo=UTC)),
            ("jane@x.example", datetime(2026, 3, 9, 8, tzinfo=UTC)),
            ("bob@x.example", datetime(2026, 3, 8, 8, tzinfo=UTC)),
            ("bob@x.example", datetime(2026, 2, 1, 8, tzinfo=UTC))]
    days, reps, counts = per_rep_per_day(when, 3, date(2026, 3, 9))
    assert days == [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)]
    assert reps == ["bob@x.example", "jane@x.example"]
    assert counts == Counter({("jane@x.example", date(2026, 3, 9)): 2,
                              ("bob@x.example", date(2026, 3, 8)): 1})
    drawing = str(svg(days, reps, counts))
    assert drawing.count("<rect") == 2 + 2  # two bars, two legend keys
    assert "<title>jane@x.example: 2 on 2026-03-09</title>" in drawing


def test_chart_escapes_names():
    days, reps, counts = per_rep_per_day(
        [("<script>@x.example", datetime(2026, 3, 9, tzinfo=UTC))], 1, date(2026, 3, 9))
    assert "<script>" not in str(svg(days, reps, counts))


def test_sign_in_throttle_counts_failures_in_a_sliding_window_per_key():
    from connector.web.admin.security import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after("email:a", "ip:1") == 0
        throttle.failed("email:a", "ip:1")
    assert throttle.retry_after("email:a") == 61
    assert throttle.retry_after("ip:1", "email:b") == 61  # the address is blocked too
    assert throttle.retry_after("email:b", "ip:2") == 0
    now[0] = 30.0
    assert throttle.retry_after("email:a") == 31
    now[0] = 60.5
    assert throttle.retry_after("email:a") == 0
    throttle.failed("email:c")
    assert len(throttle) == 1  # email:a and ip:1 expired when email:c failed
    throttle.succeeded("email:c")
    assert len(throttle) == 0


def test_sign_in_throttle_memory_stays_bounded():
    """Huge emails cost a digest each, old keys expire, and the number of keys is
    capped (today: 200 failed sign-ins with 500 KB emails kept 114 MB)."""
    import sys

    from connector.web.admin.security import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(limit=3, window=60, clock=lambda: now[0], max_keys=100)
    for n in range(50):
        throttle.failed(f"email:{n}{'x' * 500_000}", "ip:1")
    sizes = [sys.getsizeof(k) for k in throttle._failures]
    assert max(sizes) < 100 and len(throttle) == 51
    assert throttle.retry_after(f"email:7{'x' * 500_000}") == 0  # two failures only
    assert throttle.retry_after("ip:1") == 61
    for n in range(300):
        throttle.failed(f"email:other{n}")
    assert len(throttle) == 100  # the cap: least recently failed keys went first
    assert max(len(v) for v in throttle._failures.values()) <= 3
    now[0] = 1000.0
    throttle.failed("email:late")
    assert len(throttle) == 1  # everything older than the window expired
