"""SLA monitors end to end: leads through /v1, the scanner at an injected time, touches
through /v1 activities, notifications through a recording fake."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connector.bootstrap import bootstrap
from connector.service import sla
from connector.store import sla_repo
from connector.store.models import AssignmentCounterRow, DecisionRow, SlaClockRow
from connector.store.reads import detached

from .conftest import error, make_rep, make_ruleset

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


class Notifications:
    """Records what the scanner queues, as the notification inbox would receive it."""

    def __init__(self, fail_first: bool = False) -> None:
        self.calls: list[dict] = []
        self._fail = fail_first
        self._lock = threading.Lock()

    def __call__(self, session, **kwargs) -> None:
        with self._lock:
            if self._fail:
                self._fail = False
                raise RuntimeError("the process died here")
            self.calls.append(kwargs)

    def kinds(self) -> list[str]:
        return [c["kind"] for c in self.calls]


@pytest.fixture
def sent(container) -> Notifications:
    container.extras["notify"] = notes = Notifications()
    return notes


def _router(client, headers, *rep_ids: str, caps: bool = False) -> str:
    users = [{"user_id": r[4:], **({"daily_cap": 10} if caps else {})} for r in rep_ids]
    created = client.post("/routers", headers=headers, json={
        "name": "RR", "object_type": "contact", "published": True,
        "settings": {"users": users, "distribution": "round_robin"}})
    assert created.status_code == 201, created.json
    return created.json["id"]


def _monitor(client, v1, router_id: str, **extra) -> dict:
    values = {"name": "First touch", "router_id": router_id, "condition": "first_touch",
              "duration": "PT10M", "clock": "wall", "reminders": [0.5],
              "stages": [{"after": "PT0S", "notify": ["owner", "manager"],
                          "reassign": True}],
              "manager_emails": ["boss@company.com"], **extra}
    response = client.post("/v1/sla-monitors", json=values, headers=v1)
    assert response.status_code == 201, response.json
    return response.json


def _setup(client, v1, headers, **monitor) -> tuple[list[str], str, dict]:
    reps = [make_rep(client, v1, f"{n}@company.com") for n in ("ann", "bob", "cy")]
    router = _router(client, headers, *reps, caps=True)
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_ROUTER",
                                                   "router_id": router}])
    return reps, router, _monitor(client, v1, router, **monitor)


def _lead(client, v1, email: str = "pat@example.com") -> dict:
    response = client.post("/v1/leads", json={"email": email}, headers=v1)
    assert response.status_code == 201, response.json
    return response.json


def _clocks(client, v1, contact_id: str) -> list[dict]:
    response = client.get(f"/v1/contacts/{contact_id}/sla", headers=v1)
    assert response.status_code == 200, response.json
    return response.json["data"]


def _scan(container, clock, notify) -> sla.ScanResult:
    return sla.scan(container.db, clock(), notify=notify)


def test_an_untouched_lead_is_reminded_then_reassigned_exactly_once(
        client, v1, headers, container, clock, sent):
    reps, router, monitor = _setup(client, v1, headers)
    lead = _lead(client, v1)
    assert lead["owner"]["id"] == reps[0]
    clock.advance(minutes=4)
    assert _scan(container, clock, sent).reminders == 0
    clock.advance(minutes=1)
    assert _scan(container, clock, sent).reminders == 1
    assert sent.calls[0]["kind"] == "sla.reminder"
    assert sent.calls[0]["recipients"] == ["ann@company.com"]
    assert sent.calls[0]["payload"]["sla_left_seconds"] == 300
    assert sent.calls[0]["payload"]["monitor_id"] == monitor["id"][4:]

    clock.advance(minutes=5)
    result = _scan(container, clock, sent)
    assert (result.stages, result.reassigned) == (1, 1)
    for _ in range(3):  # again at the same time and later: nothing more
        assert _scan(container, clock, sent).reassigned == 0
        clock.advance(minutes=30)
    # the clock restarted for bob: his own reminder, and no stage is left for him
    assert sent.kinds() == ["sla.reminder", "sla.breach", "sla.reassigned", "sla.reminder"]
    assert sent.calls[3]["recipients"] == ["bob@company.com"]
    breach = sent.calls[1]
    assert breach["recipients"] == ["ann@company.com", "boss@company.com"]
    assert breach["payload"]["stage"] == 1 and breach["payload"]["sla_left_seconds"] == 0
    assert sent.calls[2]["recipients"] == ["bob@company.com", "ann@company.com",
                                           "boss@company.com"]

    contact = client.get(f"/v1/contacts/{lead['contact_id']}", headers=v1).json
    assert contact["owner_id"] in (reps[1], reps[1][4:])
    [view] = _clocks(client, v1, lead["contact_id"])
    assert view["reps"] == [reps[0], reps[1]] and view["rep_id"] == reps[1]
    assert view["stages_done"] == 1 and view["state"] == "breached"
    [breach_event] = [e for e in view["events"] if e["kind"] == "breach"]
    assert breach_event["reassign"] == "reassigned to bob@company.com"
    with detached(container.db) as session:
        decisions = session.scalars(select(DecisionRow).where(
            DecisionRow.router_id == router, DecisionRow.assigned.is_(True))).all()
        counters = {(c.rep_id, c.period): c.count for c in session.scalars(
            select(AssignmentCounterRow).where(AssignmentCounterRow.router_id == router))}
    assert len(decisions) == 2  # the lead's assignment and one reassignment
    # ann's assignment is taken off her cap counters; bob has the record now
    assert counters[(reps[0][4:], "day")] == 0 and counters[(reps[1][4:], "day")] == 1


def test_a_reassignment_never_goes_back_to_a_rep_who_had_the_record(
        client, v1, headers, container, clock, sent):
    reps = [make_rep(client, v1, f"{n}@company.com") for n in ("ann", "bob")]
    router = _router(client, headers, *reps)
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_ROUTER",
                                                   "router_id": router}])
    stage = {"after": "PT0S", "notify": ["owner"], "reassign": True}
    _monitor(client, v1, router, reminders=[], stages=[stage, stage, stage])
    lead = _lead(client, v1)
    for _ in range(3):
        clock.advance(minutes=10)
        _scan(container, clock, sent)
    [view] = _clocks(client, v1, lead["contact_id"])
    assert view["reps"] == [reps[0], reps[1]]  # nobody else was left
    assert view["stages_done"] == 3
    assert view["events"][-1]["reassign"].startswith("not reassigned")


def test_a_lead_touched_in_time_is_not_reassigned(client, v1, headers, container, clock,
                                                  sent):
    reps, _, _ = _setup(client, v1, headers)
    lead = _lead(client, v1)
    clock.advance(minutes=7)
    logged = client.post(f"/v1/contacts/{lead['contact_id']}/activities",
                         json={"type": "CALL", "rep_id": reps[0]}, headers=v1)
    assert logged.status_code == 201, logged.json
    clock.advance(minutes=30)
    result = _scan(container, clock, sent)
    assert (result.stages, result.reassigned) == (0, 0)
    [view] = _clocks(client, v1, lead["contact_id"])
    assert view["state"] == "met" and view["rep_id"] == reps[0]
    assert view["stopped_by"]["source"] == "api"
    assert view["stopped_by"]["signal"] == "touch" and view["stopped_by"]["late"] is False
    assert view["stopped_by"]["detail"]["type"] == "CALL"
    assert view["sla_left_seconds"] == 180  # what was left when it stopped
    assert sent.calls == []


def test_a_note_is_not_a_touch_and_a_meeting_meets_meeting_booked(
        client, v1, headers, container, clock, sent):
    reps, router, _ = _setup(client, v1, headers)
    _monitor(client, v1, router, name="Meeting", condition="meeting_booked",
             duration="PT1H", reminders=[], stages=[])
    lead = _lead(client, v1)
    contact = lead["contact_id"]
    client.post(f"/v1/contacts/{contact}/activities", json={"type": "NOTE"}, headers=v1)
    assert {v["state"] for v in _clocks(client, v1, contact)} == {"running"}
    client.post(f"/v1/contacts/{contact}/activities", json={"type": "MEETING"}, headers=v1)
    views = {v["condition"]: v for v in _clocks(client, v1, contact)}
    assert views["meeting_booked"]["state"] == views["first_touch"]["state"] == "met"
    assert views["meeting_booked"]["stopped_by"]["signal"] == "meeting"


def test_working_time_slas_pause_outside_the_reps_hours(client, v1, headers, container,
                                                        clock, sent):
    hours = {day: [{"start": "09:00", "end": "17:00"}] for day in WEEKDAYS}
    ann = make_rep(client, v1, "ann@company.com", timezone="Europe/Berlin",
                   working_hours=hours)
    bob = make_rep(client, v1, "bob@company.com")
    router = _router(client, headers, ann, bob)
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_ROUTER",
                                                   "router_id": router}])
    _monitor(client, v1, router, duration="PT30M", clock="working", reminders=[])
    clock.at = datetime(2026, 12, 4, 15, 50, tzinfo=UTC)  # Friday 16:50 in Berlin
    lead = _lead(client, v1)
    assert lead["owner"]["id"] == ann
    [view] = _clocks(client, v1, lead["contact_id"])
    assert view["deadline_at"] == "2026-12-07T08:20:00+00:00"  # Monday 09:20 in Berlin
    for moment in (datetime(2026, 12, 4, 17, 0, tzinfo=UTC),  # Friday evening
                   datetime(2026, 12, 6, 12, 0, tzinfo=UTC),  # Sunday
                   datetime(2026, 12, 7, 8, 19, tzinfo=UTC)):  # Monday 09:19
        clock.at = moment
        assert _scan(container, clock, sent).stages == 0
    [view] = _clocks(client, v1, lead["contact_id"])
    assert view["sla_left_seconds"] == 60
    clock.at = datetime(2026, 12, 7, 8, 20, tzinfo=UTC)
    assert _scan(container, clock, sent).reassigned == 1


def test_set_away_makes_the_late_rep_away(client, v1, headers, container, clock, sent):
    reps, router, monitor = _setup(client, v1, headers)
    client.patch(f"/v1/sla-monitors/{monitor['id']}", headers=v1, json={"stages": [
        {"after": "PT0S", "notify": ["manager"], "reassign": True, "set_away": True}]})
    _lead(client, v1)
    clock.advance(minutes=10)
    _scan(container, clock, sent)
    assert client.get(f"/v1/reps/{reps[0]}", headers=v1).json["status"] == "AWAY"


# -- exactly once: a restart, a second worker ------------------------------------------

def test_a_crash_before_the_commit_escalates_once_on_the_next_round(
        client, v1, headers, container, clock):
    _setup(client, v1, headers)
    lead = _lead(client, v1)
    clock.advance(minutes=10)
    notes = Notifications(fail_first=True)
    first = _scan(container, clock, notes)  # the reminder's transaction dies
    assert (first.stages, notes.calls) == (0, [])
    restarted = bootstrap(container.config)  # another process on the same database
    try:
        again = sla.scan(restarted.db, clock(), notify=notes)
        assert (again.reminders, again.stages, again.reassigned) == (1, 1, 1)
        assert sla.scan(restarted.db, clock(), notify=notes).stages == 0
        assert sla.scan(container.db, clock(), notify=notes).stages == 0
    finally:
        restarted.close()
    assert notes.kinds() == ["sla.reminder", "sla.breach", "sla.reassigned"]
    [view] = _clocks(client, v1, lead["contact_id"])
    assert len(view["reps"]) == 2


def test_a_stale_claim_matches_nothing(client, v1, headers, container, clock, sent,
                                       account_id):
    _setup(client, v1, headers)
    lead = _lead(client, v1)
    with detached(container.db) as session:
        [stale] = sla_repo.clocks_of(session, account_id, lead["contact_id"][4:])
    clock.advance(minutes=10)
    assert _scan(container, clock, sent).stages == 1  # claimed and committed meanwhile
    with container.db.session() as session:
        assert sla_repo.claim(session, stale) is False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_url(request, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'shared.db'}"


def test_two_scanners_escalate_each_breach_once(shared_url, tmp_path):
    from connector.config import Config
    from connector.web import create_app
    from tests.conftest import JWT_SECRET, auth

    config = Config(database_url=shared_url, executor="inline", jwt_secret=JWT_SECRET,
                    secret_key="k" * 32)
    one, two = bootstrap(config), bootstrap(config)
    try:
        client = create_app(container=one).test_client()
        account = _make_account(one)
        headers = auth(account)
        from connector.service.api_keys import create_key

        _, secret = create_key(one.db, account, ["*"])
        v1 = {"Authorization": f"Bearer {secret}"}
        start = datetime(2026, 12, 1, 10, tzinfo=UTC)
        one.extras["now"] = lambda: start
        _setup(client, v1, headers)
        leads = [_lead(client, v1, f"p{i}@example.com") for i in range(6)]
        notes = Notifications()
        later = start + timedelta(minutes=10)
        barrier = threading.Barrier(2)
        results: list[sla.ScanResult] = []

        def run(container) -> None:
            barrier.wait(timeout=30)
            results.append(sla.scan(container.db, later, notify=notes))

        threads = [threading.Thread(target=run, args=(c,)) for c in (one, two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sum(r.reassigned for r in results) == len(leads)
        assert sum(r.stages for r in results) == len(leads)
        assert notes.kinds().count("sla.breach") == len(leads)
        assert notes.kinds().count("sla.reminder") == len(leads)
        with detached(one.db) as session:
            clocks = session.scalars(select(SlaClockRow)).all()
        assert sorted(len(c.reps) for c in clocks) == [2] * len(leads)
        assert all(c.stages_done == 1 for c in clocks)
    finally:
        one.close()
        two.close()


def _make_account(container) -> str:
    from connector.store.models import AccountRow

    with container.db.session() as session:
        row = AccountRow(name="Acme")
        session.add(row)
        session.flush()
        return row.id


# -- the API ---------------------------------------------------------------------------

def test_monitor_crud_and_errors(client, v1, headers, key_for, account_id):
    reps = [make_rep(client, v1, "ann@company.com")]
    router = _router(client, headers, *reps)
    created = _monitor(client, v1, router)
    assert created["id"].startswith("sla_") and created["duration"] == "PT10M"
    assert client.get("/v1/sla-monitors", headers=v1).json["data"] == [created]
    patched = client.patch(f"/v1/sla-monitors/{created['id']}", headers=v1,
                           json={"duration": "PT90S", "clock": "working"})
    assert patched.status_code == 200 and patched.json["duration"] == "PT90S"
    bad = client.post("/v1/sla-monitors", headers=v1, json={
        "name": "x", "router_id": router, "condition": "first_touch", "duration": "P1M",
        "reminders": [1.5], "stages": [{}] * 4})
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"duration", "reminders", "stages"}
    assert "years and months" in bad.json["error"]["fields"]["duration"]
    neither = client.post("/v1/sla-monitors", headers=v1, json={
        "name": "x", "condition": "first_touch", "duration": "PT1M"})
    assert neither.json == error("VALIDATION_ERROR",
                                 "The request body was invalid or contained errors.",
                                 {"router_id": "give a router_id or a ruleset_id, not both"})
    unknown = client.post("/v1/sla-monitors", headers=v1, json={
        "name": "x", "router_id": "nope", "condition": "first_touch", "duration": "PT1M"})
    assert unknown.json["error"]["fields"] == {"router_id": "no router with this id"}
    null = client.patch(f"/v1/sla-monitors/{created['id']}", headers=v1,
                        json={"duration": None})
    assert null.status_code == 422 and null.json["error"]["fields"] == {
        "duration": "must not be null"}
    reader = key_for(account_id, ["sla:read"])
    assert client.get("/v1/sla-monitors", headers=reader).status_code == 200
    refused = client.delete(f"/v1/sla-monitors/{created['id']}", headers=reader)
    assert refused.json == error("FORBIDDEN", "This API key lacks the scope 'sla:write'")
    assert client.delete(f"/v1/sla-monitors/{created['id']}", headers=v1).status_code == 204
    assert client.get(f"/v1/sla-monitors/{created['id']}", headers=v1).status_code == 404


def test_monitors_are_the_accounts_own(client, v1, headers, key_for, make_account):
    router = _router(client, headers, make_rep(client, v1, "ann@company.com"))
    created = _monitor(client, v1, router)
    other = key_for(make_account("Other"))
    assert client.get(f"/v1/sla-monitors/{created['id']}", headers=other).status_code == 404
    assert client.get("/v1/sla-monitors", headers=other).json["data"] == []
    taken = client.post("/v1/sla-monitors", headers=other, json={
        "name": "x", "router_id": router, "condition": "first_touch", "duration": "PT1M"})
    assert taken.json["error"]["fields"] == {"router_id": "no router with this id"}


def test_openapi_lists_the_sla_routes_and_scopes(client):
    spec = client.get("/v1/openapi.json").json
    assert spec["paths"]["/sla-monitors"]["post"]["x-scope"] == "sla:write"
    assert spec["paths"]["/contacts/{contact_id}/sla"]["get"]["x-scope"] == "sla:read"
    assert "`sla:read`" in spec["info"]["description"]
    root = client.get("/openapi.json").json
    assert "/v1/sla-monitors/{monitor_id}" in root["paths"]


def test_a_weighted_router_gives_the_late_rep_their_turn_back(client, v1, headers, container,
                                                              clock, sent):
    from connector.store.models import RouterRow

    reps = [make_rep(client, v1, f"{n}@company.com") for n in ("ann", "bob", "cy")]
    created = client.post("/routers", headers=headers, json={
        "name": "W", "object_type": "contact", "published": True,
        "settings": {"users": [{"user_id": r[4:], "weight": 1} for r in reps],
                     "distribution": "weighted"}})
    router = created.json["id"]
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_ROUTER",
                                                   "router_id": router}])
    _monitor(client, v1, router, reminders=[])
    assert _lead(client, v1)["owner"]["id"] == reps[0]

    def weights() -> dict:
        with detached(container.db) as session:
            return dict(session.get(RouterRow, router).current_weights)

    before = weights()
    clock.advance(minutes=10)
    assert _scan(container, clock, sent).reassigned == 1
    # ann was not eligible for the reassignment (no change from the pick itself); the
    # credit gives back what her pick cost: the sum of the weights
    assert weights()[reps[0][4:]] == before[reps[0][4:]] + 3


def test_a_rulesets_monitor_watches_its_leads(client, v1, headers, container, clock, sent):
    ann = make_rep(client, v1, "ann@company.com")
    bob = make_rep(client, v1, "bob@company.com")
    router = _router(client, headers, ann, bob)
    direct = make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_REP",
                                                           "rep_id": ann}])
    stage = {"after": "PT0S", "notify": ["owner"], "reassign": True}
    monitor = client.post("/v1/sla-monitors", headers=v1, json={
        "name": "Rules", "ruleset_id": direct["id"], "condition": "first_touch",
        "duration": "PT10M", "clock": "wall", "stages": [stage]})
    assert monitor.status_code == 201 and monitor.json["ruleset_id"] == direct["id"]
    lead = _lead(client, v1)
    clock.advance(minutes=10)
    _scan(container, clock, sent)
    [view] = _clocks(client, v1, lead["contact_id"])
    assert view["events"][0]["reassign"] == \
        "not reassigned: the record was not assigned by a router"
    assert sent.kinds() == ["sla.breach"]
    # the same ruleset assigning through a router: the stage reassigns through it
    client.patch(f"/v1/rules/{direct['id']}", headers=v1, json={
        "default_rule": {"actions": [{"type": "ASSIGN_ROUTER", "router_id": router}]}})
    second = _lead(client, v1, "sam@example.com")
    assert second["owner"]["id"] == ann
    clock.advance(minutes=10)
    assert _scan(container, clock, sent).reassigned == 1
    [view] = _clocks(client, v1, second["contact_id"])
    assert view["reps"] == [ann, bob]


def test_without_a_notifier_the_scanner_queues_through_the_notifications_module(
        client, v1, headers, container, clock):
    """The scanner's notifications become durable inbox events, one per channel."""
    from sqlalchemy import select

    from connector.store.models import InboxEventRow

    channel = client.post("/v1/notification-channels", headers=v1, json={
        "name": "Ops", "type": "webhook", "secrets": {
            "url": "https://hooks.example.com/in", "signing_secret": "whsec_c2VjcmV0"}})
    assert channel.status_code == 201, channel.json
    _setup(client, v1, headers)
    _lead(client, v1)
    clock.advance(minutes=10)
    sla.scan(container.db, clock())
    with container.db.read_session() as session:
        queued = [row.payload for row in session.scalars(
            select(InboxEventRow).where(InboxEventRow.kind == "notification")
            .order_by(InboxEventRow.id))]
    assert sorted(p["kind"] for p in queued) == ["sla.breach", "sla.reassigned",
                                                 "sla.reminder"]
    breach = next(p for p in queued if p["kind"] == "sla.breach")
    assert breach["payload"]["owner_email"] == "ann@company.com"
    assert breach["channel_id"] == channel.json["id"]


def test_a_stage_that_fails_after_reassigning_counts_and_writes_back_nothing(
        client, v1, headers, container, clock):
    _setup(client, v1, headers)
    lead = _lead(client, v1)
    clock.advance(minutes=10)
    calls: list[str] = []

    def notify(session, **kw) -> None:
        calls.append(kw["kind"])
        if kw["kind"] == "sla.reassigned" and calls.count("sla.reassigned") == 1:
            raise RuntimeError("the process died here")

    writes: list[str] = []
    failed = sla.scan(container.db, clock(), notify=notify,
                      sync=lambda *args: writes.append(args[3]))
    assert (failed.reassigned, failed.write_backs, writes) == (0, [], [])
    [view] = _clocks(client, v1, lead["contact_id"])
    assert len(view["reps"]) == 1 and view["stages_done"] == 0  # all rolled back
    again = sla.scan(container.db, clock(), notify=notify)
    assert again.reassigned == 1


def _router_of(client, headers, reps: list[str], model: str) -> str:
    created = client.post("/routers", headers=headers, json={
        "name": model, "object_type": "contact", "published": True,
        "settings": {"users": [{"user_id": r[4:]} for r in reps], "distribution": model}})
    assert created.status_code == 201, created.json
    return created.json["id"]


def test_a_round_robin_router_gives_the_late_rep_their_turn_back(client, v1, headers,
                                                                 container, clock, sent):
    from connector.store import routing_depth_repo

    reps = [make_rep(client, v1, f"{n}@company.com") for n in ("ann", "bob", "cy")]
    router = _router_of(client, headers, reps, "round_robin")
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_ROUTER",
                                                   "router_id": router}])
    _monitor(client, v1, router, reminders=[])
    assert _lead(client, v1, "one@example.com")["owner"]["id"] == reps[0]
    clock.advance(minutes=10)
    assert _scan(container, clock, sent).reassigned == 1  # to bob, the next in turn
    with detached(container.db) as session:
        assert routing_depth_repo.balances(session, router) == {reps[0][4:]: (1, 0)}
    # ann is owed a record: she gets the next one outside the rotation, which stays at
    # bob, so cy's turn does not move (without the credit: cy, then ann)
    owners = [_lead(client, v1, f"{n}@example.com")["owner"]["id"]
              for n in ("two", "three", "four")]
    assert owners == [reps[0], reps[2], reps[0]]
    with detached(container.db) as session:
        assert routing_depth_repo.balances(session, router) == {reps[0][4:]: (0, 0)}
        paid = session.scalars(select(DecisionRow).where(
            DecisionRow.router_id == router, DecisionRow.assigned.is_(True))
            .order_by(DecisionRow.created_at, DecisionRow.id)).all()
    assert any("owed 1 record" in str(d.reason) for d in paid)


def test_a_load_balanced_router_stops_counting_the_reassigned_record(client, v1, headers,
                                                                     container, clock, sent):
    from connector.service.dispatch import load_state, router_and_reps
    from connector.store.models import RouterRow

    reps = [make_rep(client, v1, f"{n}@company.com") for n in ("ann", "bob")]
    router = _router_of(client, headers, reps, "load_balanced")
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_ROUTER",
                                                   "router_id": router}])
    _monitor(client, v1, router, reminders=[])
    lead = _lead(client, v1)
    assert lead["owner"]["id"] == reps[0]

    def window() -> dict:
        with container.db.session() as session:
            row = session.get(RouterRow, router)
            domain, people = router_and_reps(container.db, session, row.account_id, row)
            return dict(load_state(session, row, domain, people, clock()).window_counts)

    assert window() == {reps[0][4:]: 1}
    clock.advance(minutes=10)
    assert _scan(container, clock, sent).reassigned == 1
    # the record is bob's load now, and no longer ann's
    assert window() == {reps[1][4:]: 1}
    with detached(container.db) as session:
        first = session.scalars(select(DecisionRow).where(
            DecisionRow.router_id == router, DecisionRow.rep_id == reps[0][4:])).one()
    assert first.credited_at is not None and first.assigned
    # so ann, with no load, takes the next lead
    assert _lead(client, v1, "two@example.com")["owner"]["id"] == reps[0]


def test_a_new_status_through_patch_contacts_stops_status_changed_clocks(
        client, v1, headers, container, clock, sent):
    reps, router, _ = _setup(client, v1, headers)
    _monitor(client, v1, router, name="Status", condition="status_changed",
             duration="PT1H", reminders=[], stages=[])
    lead = _lead(client, v1)
    contact = lead["contact_id"]
    clock.advance(minutes=20)
    # a call is a touch, not a status change
    client.post(f"/v1/contacts/{contact}/activities", json={"type": "CALL"}, headers=v1)
    views = {v["condition"]: v for v in _clocks(client, v1, contact)}
    assert views["status_changed"]["state"] == "running"
    assert views["first_touch"]["state"] == "met"

    changed = client.patch(f"/v1/contacts/{contact}", json={"status": "Working"},
                           headers=v1)
    assert changed.status_code == 200, changed.json
    assert changed.json["fields"]["status"] == "Working"
    [view] = [v for v in _clocks(client, v1, contact) if v["condition"] == "status_changed"]
    assert view["state"] == "met"
    assert view["stopped_by"]["source"] == "api" and view["stopped_by"]["signal"] == "status"
    assert view["stopped_by"]["detail"] == {"status": "Working", "previous": None}
    assert view["sla_left_seconds"] == 40 * 60


def test_an_unchanged_status_or_other_fields_stop_nothing(client, v1, headers, container,
                                                          clock, sent):
    reps, router, _ = _setup(client, v1, headers)
    _monitor(client, v1, router, name="Status", condition="status_changed",
             duration="PT1H", reminders=[], stages=[])
    contact = client.post("/v1/contacts", json={"email": "pat@example.com",
                                                "fields": {"status": "New"}},
                          headers=v1).json["id"]
    lead = _lead(client, v1)
    assert lead["contact_id"] == contact

    def state() -> str:
        [view] = [v for v in _clocks(client, v1, contact)
                  if v["condition"] == "status_changed"]
        return view["state"]

    assert client.patch(f"/v1/contacts/{contact}", json={"first_name": "Pat"},
                        headers=v1).status_code == 200
    assert client.patch(f"/v1/contacts/{contact}", json={"status": "New"},
                        headers=v1).status_code == 200
    assert state() == "running"
    # the upsert changes a status too, and that counts the same
    assert client.post("/v1/contacts", json={"email": "pat@example.com",
                                             "fields": {"status": "Qualified"}},
                       headers=v1).status_code == 200
    assert state() == "met"


def test_patch_contacts_errors(client, v1, headers):
    contact = client.post("/v1/contacts", json={"email": "pat@example.com"},
                          headers=v1).json["id"]
    empty = client.patch(f"/v1/contacts/{contact}", json={}, headers=v1)
    assert empty.status_code == 422 and "status" in str(empty.json)
    blank = client.patch(f"/v1/contacts/{contact}", json={"status": "  "}, headers=v1)
    assert blank.status_code == 422 and "status" in blank.json["error"]["fields"]
    unknown = client.patch(f"/v1/contacts/{contact}", json={"email": "x@example.com"},
                           headers=v1)
    assert unknown.status_code == 422 and "email" in unknown.json["error"]["fields"]
    missing = client.patch("/v1/contacts/con_nope", json={"status": "Working"}, headers=v1)
    assert missing.status_code == 404
    spec = client.get("/v1/openapi.json").json
    assert spec["paths"]["/contacts/{contact_id}"]["patch"]["x-scope"] == "contacts:write"
    assert "patch" in client.get("/openapi.json").json["paths"]["/v1/contacts/{contact_id}"]


def test_the_payload_links_to_the_consoles_accept_and_reassign_pages(
        client, v1, headers, container, clock, sent):
    import dataclasses

    from connector.service.notifications import blocks

    reps, _, _ = _setup(client, v1, headers)
    _lead(client, v1)
    clock.advance(minutes=5)
    container.config = dataclasses.replace(container.config, public_url=None)
    assert sla.scan_now(container) == 1  # the reminder, without links
    assert "accept_url" not in sent.calls[0]["payload"]
    clock.advance(minutes=5)
    container.config = dataclasses.replace(container.config,
                                           public_url="https://connector.example.com/")
    assert sla.scan_now(container) == 1  # the breach
    breach = sent.calls[1]
    page = f"https://connector.example.com/admin/sla/clocks/{breach['payload']['clock_id']}"
    assert breach["payload"]["accept_url"] == page + "?action=accept"
    assert breach["payload"]["reassign_url"] == page + "?action=reassign"
    assert sent.calls[2]["kind"] == "sla.reassigned"
    assert sent.calls[2]["payload"]["accept_url"].startswith(page)
    buttons = [e for b in blocks(breach)
               for e in b.get("elements", []) if e.get("type") == "button"]
    assert {b["url"] for b in buttons} == {page + "?action=accept", page + "?action=reassign"}
