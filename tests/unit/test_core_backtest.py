from datetime import UTC, datetime, timedelta

from connector.core.backtest import PastRecord, backtest
from connector.core.distribution import RotationState
from connector.core.engine import RouterState
from connector.core.model import (
    Account,
    Condition,
    ConditionGroup,
    DistributionModel,
    Rep,
    RoutableObject,
    Router,
    RouterMember,
    RouterSettings,
    Trigger,
)

START = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a Monday
ACCOUNT = Account("acc", "Acme")
REPS = {r: Rep(r, f"{r}@x.io") for r in ("a", "b", "c")}
GERMANY = Trigger((ConditionGroup((Condition("country", "equals", "DE"),)),))


def router(model=DistributionModel.ROUND_ROBIN, trigger=Trigger(), **member) -> Router:
    members = tuple(RouterMember(r, i, **member) for i, r in enumerate("abc"))
    return Router("rt", "acc", "EU", "contact", published=True,
                  settings=RouterSettings(members, model=model, trigger=trigger,
                                          load_window_hours=2))


def records(n, step=timedelta(minutes=10), actual="a", country="DE"):
    return [PastRecord(RoutableObject(f"o{i}", "contact", {"country": country}),
                       START + i * step, actual) for i in range(n)]


def test_who_would_have_got_what_against_what_happened():
    past = records(6)
    past[4] = PastRecord(RoutableObject("o4", "contact", {"country": "FR"}), past[4].at, None)
    result = backtest(account=ACCOUNT, router=router(trigger=GERMANY), records=past,
                      reps=REPS)
    assert [(r.record_id, r.outcome, r.would_rep_id) for r in result.rows] == [
        ("o0", "assigned", "a"), ("o1", "assigned", "b"), ("o2", "assigned", "c"),
        ("o3", "assigned", "a"), ("o4", "trigger_not_matched", None),
        ("o5", "assigned", "b")]
    assert [(t.rep_id, t.would, t.actual, t.difference) for t in result.per_rep] == [
        ("a", 2, 5, -3), ("b", 2, 0, 2), ("c", 1, 0, 1)]
    assert [r.record_id for r in result.changed] == ["o1", "o2", "o5"]
    assert result.outcomes == {"assigned": 5, "trigger_not_matched": 1}


def test_records_are_replayed_in_time_order_from_the_given_state():
    past = list(reversed(records(3)))
    state = RouterState(rotation=RotationState(last_position=0))
    result = backtest(account=ACCOUNT, router=router(), records=past, reps=REPS, state=state)
    assert [(r.record_id, r.would_rep_id) for r in result.rows] == [
        ("o0", "b"), ("o1", "c"), ("o2", "a")]
    assert result.final_state.rotation.last_position == 0


def test_daily_caps_count_in_the_reps_day_and_reset_the_next():
    past = records(8, step=timedelta(hours=2))  # 09:00 .. 23:00 UTC, then the next day
    past += [PastRecord(RoutableObject("next", "contact", {"country": "DE"}),
                        START + timedelta(days=1), None)]
    result = backtest(account=ACCOUNT, router=router(daily_cap=2), records=past, reps=REPS)
    assert [r.outcome for r in result.rows] == ["assigned"] * 6 + ["limit_reached"] * 2 + \
        ["assigned"]
    assert result.final_state.period_counts[("a", "day", "2026-11-02")] == 2


def test_the_load_window_slides_with_the_records_times():
    state = RouterState(window_counts={"a": 3})
    past = records(4, step=timedelta(hours=1))
    result = backtest(account=ACCOUNT, router=router(DistributionModel.LOAD_BALANCED),
                      records=past, reps=REPS, state=state)
    # a's three earlier assignments (counted at 09:00) are out of the two-hour window by 12:00
    assert [r.would_rep_id for r in result.rows] == ["b", "c", "b", "a"]


def test_ten_thousand_records_with_progress():
    seen = []
    past = records(10_000, step=timedelta(minutes=1))
    result = backtest(account=ACCOUNT, router=router(DistributionModel.WEIGHTED),
                      records=past, reps=REPS, progress=lambda done, total: seen.append(done))
    assert len(result.rows) == 10_000
    assert sorted((t.rep_id, t.would) for t in result.per_rep) == [
        ("a", 3334), ("b", 3333), ("c", 3333)]
    assert seen[0] == 500 and seen[-1] == 10_000 and len(seen) == 20


def test_no_records():
    result = backtest(account=ACCOUNT, router=router(), records=[], reps=REPS)
    assert result.rows == () and result.per_rep == () and result.outcomes == {}
