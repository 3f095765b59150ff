"""Exactly once across a crash, and dead letters for what waiting cannot fix (HubSpot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from connector.jobs import inbox
from connector.jobs.executors import InlineExecutor, default_handlers
from connector.store.models import AssignmentCounterRow, DecisionRow, InboxEventRow

from .test_hubspot_processing import FakeCrm, crm, decisions, event, reps  # noqa: F401


class Crash(BaseException):
    """What the process dying looks like to the code that was running."""


class CrashingCrm(FakeCrm):
    def __init__(self) -> None:
        super().__init__()
        self.crash_before_write = False

    def write_owners(self, writes):
        if self.crash_before_write:
            self.crash_before_write = False
            raise Crash
        return super().write_owners(writes)


@pytest.fixture
def crm_crash(crm):  # noqa: F811
    crm.__class__ = CrashingCrm
    crm.crash_before_write = False
    return crm


def capped_router(client, headers, rep_ids):
    body = {"name": "Capped", "object_type": "contact", "published": True,
            "settings": {"users": [{"user_id": r, "daily_cap": 50} for r in rep_ids]}}
    response = client.post("/routers", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def drain(container):
    return InlineExecutor(container, default_handlers(container)).drain()


def lapse_leases(container):
    """The leases of a dead process run out: the next claim takes its events again."""
    with container.db.session() as session:
        session.execute(update(InboxEventRow).where(InboxEventRow.status == "processing")
                        .values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))


def counters(container):
    with container.db.session() as session:
        return {period: n for period, n in session.execute(
            select(AssignmentCounterRow.period, func.sum(AssignmentCounterRow.count))
            .group_by(AssignmentCounterRow.period))}


def statuses(container, kind="hubspot"):
    with container.db.session() as session:
        return sorted(session.scalars(select(InboxEventRow.status)
                                      .where(InboxEventRow.kind == kind)))


def test_crash_between_routing_commit_and_owner_write_routes_once(container, client, headers,
                                                                 crm_crash, reps):  # noqa: F811
    capped_router(client, headers, reps)
    for i in range(1, 4):
        crm_crash.records[str(i)] = {"email": f"l{i}@x.org"}
    inbox.store_events(container.db, [event("creation", i) for i in range(1, 4)])
    crm_crash.crash_before_write = True
    with pytest.raises(Crash):
        drain(container)
    assert {d.sync_status for d in decisions(container)} == {"pending"}
    assert crm_crash.written == []

    lapse_leases(container)
    drain(container)
    assigned = [d for d in decisions(container) if d.assigned]
    assert len(assigned) == 3 and len({d.object_id for d in assigned}) == 3
    assert {d.sync_status for d in assigned} == {"synced"}
    assert counters(container)["day"] == 3
    assert sorted(crm_crash.written) == [("contact", "1", "900"), ("contact", "2", "901"),
                                         ("contact", "3", "900")]
    assert statuses(container) == ["done"] * 3
    # the rotation moved three steps, not six: the next record goes to the second rep
    crm_crash.records["4"] = {"email": "l4@x.org"}
    inbox.store_events(container.db, [event("creation", 4)])
    drain(container)
    assert crm_crash.written[-1] == ("contact", "4", "901")


def test_crash_after_owner_write_before_complete_changes_nothing(container, client, headers,
                                                                crm_crash, reps):  # noqa: F811
    from connector.service.hubspot_processing import handle_events

    capped_router(client, headers, reps)
    crm_crash.records["1"] = {"email": "l1@x.org"}
    inbox.store_events(container.db, [event("creation", 1)])
    claimed = inbox.claim(container.db)
    assert handle_events(container, claimed) == {claimed[0].id: None}  # then the crash
    lapse_leases(container)
    drain(container)
    [decision] = decisions(container)
    assert decision.assigned and decision.sync_status == "synced"
    assert crm_crash.written == [("contact", "1", "900")] and counters(container)["day"] == 1
    assert statuses(container) == ["done"]


def test_a_new_event_for_the_record_is_still_routed_by_its_rules(container, client, headers,
                                                                crm_crash, reps):  # noqa: F811
    capped_router(client, headers, reps)
    crm_crash.records["1"] = {"email": "l1@x.org"}
    inbox.store_events(container.db, [event("creation", 1)])
    drain(container)
    inbox.store_events(container.db, [event("creation", 1)])  # a second, distinct creation
    drain(container)
    assert len(decisions(container)) == 2  # decided again (and kept: overwrite "never")


def test_unknown_portal_is_a_dead_letter_at_once_and_replayable(container, client, headers,
                                                               account_id, crm,  # noqa: F811
                                                               reps):  # noqa: F811
    capped_router(client, headers, reps)
    crm.records["1"] = {"email": "a@x.org"}
    inbox.store_events(container.db, [inbox.NewEvent("hubspot", "777", "k", "hubspot", {
        "portal_id": "777", "object_type": "contact", "object_id": "1",
        "action": "creation"})])
    drain(container)
    with container.db.session() as session:
        row = session.scalars(select(InboxEventRow)).one()
        assert row.status == "dead" and row.attempts == 1
        assert row.last_error == "HubSpot portal 777 is not connected to an account"
        event_id = row.id
    container.extras["hubspot"].portals.connect("777", account_id)
    assert inbox.replay(container.db, [event_id]) == 1
    drain(container)
    assert statuses(container) == ["done"] and crm.written == [("contact", "1", "900")]


def test_record_failing_its_mapping_is_a_dead_letter_at_once(container, client, headers,
                                                             crm, reps):  # noqa: F811
    capped_router(client, headers, reps)
    crm.records["1"] = {"email": "a@x.org", "numemployees": "lots"}
    crm.records["2"] = {"email": "ok@x.org"}
    inbox.store_events(container.db, [event("creation", 1), event("creation", 2)])
    drain(container)
    with container.db.session() as session:
        rows = {r.payload["object_id"]: r for r in session.scalars(select(InboxEventRow))}
        assert rows["1"].status == "dead" and rows["1"].attempts == 1
        assert rows["1"].last_error.startswith("record 1: ")
        assert "employees" in rows["1"].last_error
        assert rows["2"].status == "done"
        event_id = rows["1"].id
    [listed] = client.get("/events?status=failed", headers=headers).get_json()["results"]
    assert (listed["id"], listed["status"]) == (event_id, "dead")
    assert "employees" in listed["error"]
    crm.records["1"] = {"email": "a@x.org", "numemployees": "12"}
    replayed = client.post(f"/events/{event_id}/replay", headers=headers)
    assert replayed.get_json() == {"replayed": 1}
    drain(container)
    assert statuses(container) == ["done", "done"]
    assert {w[1] for w in crm.written} == {"1", "2"}


def test_malformed_stored_payload_is_a_dead_letter_at_once(container, crm,  # noqa: F811
                                                           monkeypatch):
    from click.testing import CliRunner

    from connector.cli import main

    inbox.store_events(container.db, [inbox.NewEvent("hubspot", "62515", "bad", "hubspot", {
        "portal_id": "62515", "object_type": "contact", "action": "creation"})])
    drain(container)
    with container.db.session() as session:
        row = session.scalars(select(InboxEventRow)).one()
        assert row.status == "dead"
        assert row.last_error == "malformed stored event: 'object_id' is missing"
    monkeypatch.setenv("DATABASE_URL", container.config.database_url)
    listed = CliRunner().invoke(main, ["events", "list", "--failed"])
    assert listed.exit_code == 0, listed.output
    assert row.id in listed.output and "'object_id' is missing" in listed.output


def test_plain_errors_are_still_retried(container, crm):  # noqa: F811
    inbox.store_events(container.db, [inbox.NewEvent("x", "p", "k", "hubspot", {})])
    [claimed] = inbox.claim(container.db)
    assert inbox.fail(container.db, claimed.id, "try later") == "failed"
    assert inbox.fail(container.db, claimed.id, inbox.Permanent("never")) == "dead"


def test_decision_rows_remember_their_event(container, client, headers, crm, reps):  # noqa: F811
    capped_router(client, headers, reps)
    crm.records["1"] = {"email": "a@x.org"}
    inbox.store_events(container.db, [event("creation", 1)])
    drain(container)
    with container.db.session() as session:
        event_id = session.scalars(select(InboxEventRow.id)).one()
        assert session.scalars(select(DecisionRow.inbox_event_id)).one() == event_id


def test_an_event_cannot_decide_twice_for_the_same_router_and_record(container, client,
                                                                    headers, crm,  # noqa: F811
                                                                    reps, account_id):  # noqa: F811
    """Two workers on one event (a lease that lapsed under a slow worker): the second
    decision is refused by the store, so its transaction (counters too) rolls back."""
    from sqlalchemy.exc import IntegrityError

    from connector.service.dispatch_many import dispatch_many

    router_id = capped_router(client, headers, reps)
    crm.records["1"] = {"email": "a@x.org"}
    inbox.store_events(container.db, [event("creation", 1)])
    drain(container)
    with container.db.session() as session:
        decision = session.scalars(select(DecisionRow)).one()
    with pytest.raises(IntegrityError):
        dispatch_many(container.db, account_id, router_id, [decision.object_id],
                      inbox_event_ids=[decision.inbox_event_id])
    assert len(decisions(container)) == 1 and counters(container)["day"] == 1


def test_a_crashed_assignment_taken_over_since_is_not_written_back(container, client, headers,
                                                                  crm_crash,  # noqa: F811
                                                                  reps):  # noqa: F811
    from connector.service.hubspot_processing import handle_events

    body = {"name": "Always", "object_type": "contact", "published": True,
            "settings": {"users": [{"user_id": r} for r in reps], "overwrite": "always"}}
    assert client.post("/routers", json=body, headers=headers).status_code == 201
    crm_crash.records["1"] = {"email": "l1@x.org"}
    inbox.store_events(container.db, [event("creation", 1)])
    first = inbox.claim(container.db)
    crm_crash.crash_before_write = True
    with pytest.raises(Crash):
        handle_events(container, first)  # assigned to the first rep, never written
    inbox.store_events(container.db, [event("creation", 1)])  # a newer creation event
    drain(container)  # the newer event reassigns to the second rep and writes it
    assert crm_crash.written == [("contact", "1", "901")]
    lapse_leases(container)
    drain(container)  # the crashed event comes back: its stale owner is not written
    assert crm_crash.written == [("contact", "1", "901")]
    assert len([d for d in decisions(container) if d.assigned]) == 2
