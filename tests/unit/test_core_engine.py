from datetime import UTC, datetime

import pytest

from connector.core.distribution import RotationState
from connector.core.engine import RouterState, decide
from connector.core.model import (
    Account,
    Condition,
    ConditionGroup,
    OverwriteMode,
    Period,
    Rep,
    RepStatus,
    RoutableObject,
    Router,
    RouterMember,
    RouterSettings,
    TimeRange,
    Trigger,
)
from connector.core.outcomes import Outcome

NOW = datetime(2026, 6, 3, 14, tzinfo=UTC)  # a Wednesday
ACCOUNT = Account("acc", "Acme")
REPS = {r.id: r for r in [Rep("r1", "ann@x.io"), Rep("r2", "bob@x.io"),
                          Rep("r3", "cat@x.io"), Rep("backup", "boss@x.io")]}
MEMBERS = (RouterMember("r1", 0), RouterMember("r2", 1))
OBJ = RoutableObject("o1", "contact", {"country": "DE"})


def router(**settings) -> Router:
    published = settings.pop("published", True)
    return Router("rt", "acc", "EU", "contact", published=published,
                  settings=RouterSettings(**{"members": MEMBERS, **settings}))


def run(account=ACCOUNT, rt=None, obj=OBJ, reps=REPS, state=None):
    return decide(account=account, router=rt if rt is not None else router(), obj=obj,
                  reps=reps, state=state or RouterState(), now=NOW)


def test_success_assigns_and_explains():
    decision = run()
    assert decision.outcome is Outcome.ASSIGNED and decision.rep.email == "ann@x.io"
    assert decision.new_rotation.last_position == 0
    assert decision.explain()["picked"] == "ann@x.io"
    assert decision.periods == {"day": "2026-06-03", "week": "2026-W23"}


@pytest.mark.parametrize("kwargs,outcome", [
    ({"account": None}, Outcome.ACCOUNT_NOT_FOUND),
    ({"account": Account("acc", "Acme", active=False)}, Outcome.ACCOUNT_INACTIVE),
    ({"rt": Router("other", "someone-else", "x", "contact", True, None)},
     Outcome.ROUTER_NOT_FOUND),
    ({"rt": router(published=False)}, Outcome.ROUTER_UNPUBLISHED),
    ({"rt": Router("rt", "acc", "EU", "contact", True, None)}, Outcome.ROUTER_NO_SETTINGS),
    ({"obj": None}, Outcome.OBJECT_NOT_FOUND),
    ({"obj": RoutableObject("o1", "ticket", {})}, Outcome.OBJECT_NOT_FOUND),
    ({"obj": RoutableObject("o1", "contact", {}, archived=True)}, Outcome.OBJECT_NOT_FOUND),
])
def test_outcomes_before_routing(kwargs, outcome):
    assert run(**kwargs).outcome is outcome


def test_precedence_inactive_account_beats_missing_router():
    decision = decide(account=Account("acc", "A", False), router=None, obj=None, reps={},
                      state=RouterState(), now=NOW)
    assert decision.outcome is Outcome.ACCOUNT_INACTIVE


def test_unpublished_beats_missing_settings_and_object():
    rt = Router("rt", "acc", "EU", "contact", False, None)
    assert run(rt=rt, obj=None).outcome is Outcome.ROUTER_UNPUBLISHED


def test_trigger_did_not_match():
    trig = Trigger((ConditionGroup((Condition("country", "equals", "US"),)),))
    decision = run(rt=router(trigger=trig))
    assert decision.outcome.message == "Trigger did not match"


def test_overwrite_modes():
    owned = RoutableObject("o1", "contact", {}, owner_rep_id="r3")
    assert run(obj=owned).outcome.message == "The router can not overwrite"
    mode = OverwriteMode.IF_OWNER_UNAVAILABLE
    assert run(rt=router(overwrite=mode), obj=owned).outcome is Outcome.CANNOT_OVERWRITE
    reps = {**REPS, "r3": Rep("r3", "cat@x.io", status=RepStatus.UNAVAILABLE)}
    assert run(rt=router(overwrite=mode), obj=owned, reps=reps).outcome is Outcome.ASSIGNED
    assert run(rt=router(overwrite=OverwriteMode.ALWAYS), obj=owned).outcome is \
        Outcome.ASSIGNED


def test_no_users_available_uses_backup_only_when_enabled():
    reps = {**REPS, "r1": Rep("r1", "ann@x.io", status=RepStatus.UNAVAILABLE),
            "r2": Rep("r2", "bob@x.io", out_of_office=(Period(NOW, NOW.replace(day=9)),))}
    decision = run(rt=router(backup_rep_id="backup"), reps=reps)
    assert decision.outcome.message == \
        "There are no users available and the backup user is disabled"
    assert {s.reason for s in decision.skipped} == {"unavailable", "out of office"}
    decision = run(rt=router(backup_rep_id="backup", backup_enabled=True), reps=reps)
    assert decision.outcome is Outcome.ASSIGNED and decision.via_backup
    assert decision.rep.email == "boss@x.io"


def test_caps_skip_a_user_then_stop_all():
    capped = (RouterMember("r1", 0, daily_cap=2), RouterMember("r2", 1, weekly_cap=5))
    state = RouterState(period_counts={("r1", "day", "2026-06-03"): 2,
                                       ("r2", "week", "2026-W23"): 4})
    decision = run(rt=router(members=capped), state=state)
    assert decision.rep.id == "r2"
    assert decision.skipped[0].reason == "daily cap reached"
    full = RouterState(period_counts={("r1", "day", "2026-06-03"): 2,
                                      ("r2", "week", "2026-W23"): 5})
    assert run(rt=router(members=capped), state=full).outcome.message == \
        "Assignment limit reached"
    # yesterday's count does not hold today's cap
    old = RouterState(period_counts={("r1", "day", "2026-06-02"): 9})
    assert run(rt=router(members=capped), state=old).rep.id == "r1"


def test_ignore_working_hours_when_nobody_is_in():
    night = {d: (TimeRange("00:00", "01:00"),) for d in range(7)}
    reps = {"r1": Rep("r1", "ann@x.io", working_hours=night),
            "r2": Rep("r2", "bob@x.io", working_hours=night, status=RepStatus.UNAVAILABLE)}
    assert run(reps=reps).outcome is Outcome.NO_USERS_AVAILABLE
    decision = run(rt=router(ignore_working_hours_when_none_available=True), reps=reps)
    assert decision.rep.id == "r1"  # r2 stays out: unavailable is not about hours


def test_rotation_continues_from_state():
    decision = run(state=RouterState(rotation=RotationState(last_position=0)))
    assert decision.rep.id == "r2"


def test_member_whose_user_was_deleted_is_skipped():
    reps = {k: v for k, v in REPS.items() if k != "r1"}
    decision = run(reps=reps)
    assert decision.rep.id == "r2"
    assert decision.skipped[0].reason == "user no longer exists"


def test_the_reason_keeps_the_trigger_and_the_values_it_read():
    trigger = Trigger(groups=(
        ConditionGroup((Condition("country", "in", ("DE", "AT")),
                        Condition("employees", "gt", 10)), match="any"),))
    obj = RoutableObject("o1", "contact", {"country": "DE", "employees": None, "city": "Ulm"})
    assigned = run(rt=router(trigger=trigger), obj=obj).explain()
    assert assigned["outcome"] == "assigned" and assigned["matched_groups"] == [0]
    assert assigned["trigger"] == {"match": "any", "groups": [{"match": "any", "conditions": [
        {"field": "country", "operator": "in", "value": ["DE", "AT"]},
        {"field": "employees", "operator": "gt", "value": 10}]}]}
    assert assigned["fields"] == {"country": "DE", "employees": None}  # not city
    missed = run(rt=router(trigger=trigger),
                 obj=RoutableObject("o1", "contact", {"country": "US"})).explain()
    assert missed["outcome"] == "trigger_not_matched"
    assert missed["fields"] == {"country": "US", "employees": None}
    assert "trigger" not in run(obj=None).explain()  # decided before the trigger
