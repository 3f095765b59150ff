"""The HubSpot inbox handler against a hand-written fake CRM client (no HTTP)."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from connector.core.errors import TransientCrmError
from connector.core.ports import WriteResult
from connector.jobs import inbox
from connector.jobs.executors import InlineExecutor, default_handlers
from connector.service.hubspot_processing import handle_events
from connector.store.models import DecisionRow, InboxEventRow, ObjectRow

from .helpers import make_router, make_user

PORTAL = "62515"


class FakeCrm:
    def __init__(self) -> None:
        self.records: dict[str, dict] = {}
        self.owners: dict[str, str] = {}
        self.reads: list[tuple[str, list[str], list[str]]] = []
        self.written: list[tuple[str, str, str]] = []
        self.fail_writes: str | None = None

    def read_records(self, object_type, ids, properties):
        self.reads.append((object_type, list(ids), list(properties)))
        return {i: dict(self.records[i]) for i in ids if i in self.records}

    def owner_id_for_email(self, email):
        return self.owners.get(email)

    def write_owners(self, writes):
        if self.fail_writes:
            raise TransientCrmError(self.fail_writes, status=503)
        for w in writes:
            self.written.append((w.object_type, w.record_id, w.owner_id))
            self.records[w.record_id]["hubspot_owner_id"] = w.owner_id
        return [WriteResult(w.record_id, True) for w in writes]


@pytest.fixture
def crm(container, account_id):
    fake = FakeCrm()
    portals = container.extras["hubspot"].portals
    portals._factory = lambda *args: fake
    portals.connect(PORTAL, account_id)
    return fake


@pytest.fixture
def reps(client, headers, crm):
    ids = []
    for n, email in enumerate(("ana@example.com", "ben@example.com")):
        ids.append(make_user(client, headers, email))
        crm.owners[email] = str(900 + n)
    return ids


def event(action, object_id, n=[0], **extra):  # noqa: B006 - a counter for unique ids
    n[0] += 1
    payload = {"portal_id": PORTAL, "object_type": "contact", "object_id": str(object_id),
               "action": action, "occurred_at": n[0], "own_change": False, **extra}
    return inbox.NewEvent("hubspot", PORTAL, f"{action}:{object_id}:{n[0]}", "hubspot",
                          payload)


def run(container, *events):
    inbox.store_events(container.db, list(events))
    claimed = inbox.claim(container.db)
    results = handle_events(container, claimed)
    inbox.complete(container.db, [i for i, e in results.items() if e is None])
    return results


def decisions(container):
    with container.db.session() as session:
        return list(session.scalars(select(DecisionRow).order_by(DecisionRow.created_at)))


def mirror(container, record_id):
    with container.db.session() as session:
        return session.scalars(select(ObjectRow).where(ObjectRow.source_id == record_id)).one()


def test_creations_read_once_per_batch_with_only_mapped_properties(container, client, headers,
                                                                   crm, reps):
    make_router(client, headers, reps)
    for i in range(5):
        crm.records[str(i)] = {"email": f" Lead{i}@X.org ", "country": "DE"}
    results = run(container, *[event("creation", i) for i in range(5)])
    assert set(results.values()) == {None}
    [(object_type, ids, props)] = crm.reads
    assert object_type == "contact" and sorted(ids) == ["0", "1", "2", "3", "4"]
    assert "email" in props and "hubspot_owner_id" in props and "notes" not in props
    assert Counter(w[2] for w in crm.written) == {"900": 3, "901": 2}
    assert mirror(container, "3").fields["email"] == "lead3@x.org"
    assert {d.sync_status for d in decisions(container)} == {"synced"}


def test_start_on_creation_only_ignores_property_changes(container, client, headers, crm,
                                                        reps):
    make_router(client, headers, reps)
    crm.records["1"] = {"email": "a@x.org"}
    run(container, event("propertyChange", 1, property_name="email", property_value="a@x.org"))
    assert decisions(container) == [] and crm.written == []
    assert mirror(container, "1").fields["email"] == "a@x.org"


def test_start_on_change_of_watched_property(container, client, headers, crm, reps):
    make_router(client, headers, reps, start_on=["change"], watch_properties=["country"])
    crm.records["1"] = {"email": "a@x.org", "country": "FR"}
    run(container, event("creation", 1))
    run(container, event("propertyChange", 1, property_name="email", property_value="b"))
    assert crm.written == []
    run(container, event("propertyChange", 1, property_name="country", property_value="FR"))
    assert crm.written == [("contact", "1", "900")]


def test_trigger_must_match(container, client, headers, crm, reps):
    make_router(client, headers, reps, trigger={"groups": [{"conditions": [
        {"field": "country", "operator": "equals", "value": "DE"}]}]})
    crm.records.update({"1": {"country": "FR"}, "2": {"country": "de"}})
    run(container, event("creation", 1), event("creation", 2))
    assert crm.written == [("contact", "2", "900")]


def test_existing_hubspot_owner_follows_the_overwrite_mode(container, client, headers, crm,
                                                           reps):
    make_router(client, headers, reps)
    crm.records.update({"1": {"hubspot_owner_id": "901"}, "2": {"hubspot_owner_id": "555"}})
    run(container, event("creation", 1), event("creation", 2))
    assert crm.written == []
    assert mirror(container, "1").owner_rep_id == reps[1]
    assert {d.message for d in decisions(container)} == {"The router can not overwrite"}


def test_own_owner_change_is_ignored_but_a_persons_change_is_not(container, client, headers,
                                                                  crm, reps):
    make_router(client, headers, reps, start_on=["creation", "change"],
                watch_properties=["hubspot_owner_id"], overwrite="always")
    crm.records["1"] = {"email": "a@x.org"}
    run(container, event("creation", 1))
    assert len(decisions(container)) == 1
    run(container, event("propertyChange", 1, property_name="hubspot_owner_id",
                         property_value="900"))
    run(container, event("propertyChange", 1, property_name="hubspot_owner_id",
                         property_value="901", own_change=True))
    assert len(decisions(container)) == 1
    crm.records["1"]["hubspot_owner_id"] = "777"
    run(container, event("propertyChange", 1, property_name="hubspot_owner_id",
                         property_value="777"))
    assert len(decisions(container)) == 2


def test_deletion_archives_restore_unarchives(container, client, headers, crm, reps):
    crm.records["1"] = {"email": "a@x.org"}
    run(container, event("creation", 1))
    run(container, event("privacyDeletion", 1))
    assert mirror(container, "1").archived_by == "hubspot:privacyDeletion"
    assert mirror(container, "1").fields == {}
    run(container, event("restore", 1))
    assert mirror(container, "1").archived_at is None


def test_merge_follows_the_surviving_record(container, client, headers, crm, reps):
    make_router(client, headers, reps)
    crm.records.update({"1": {"email": "a@x.org"}, "2": {"email": "b@x.org"}})
    run(container, event("creation", 1))
    owner_of_1 = mirror(container, "1").owner_rep_id
    crm.records["3"] = {"email": "a@x.org", "hubspot_owner_id": "900"}
    run(container, event("merge", 3, survivor_id="3", merged_object_ids=["1", "2"]))
    survivor = mirror(container, "3")
    assert survivor.owner_rep_id == owner_of_1 and survivor.archived_at is None
    assert len(decisions(container)) == 1  # a merge is not a new record to route


def test_unknown_portal_is_an_error_to_retry(container, crm):
    results = run(container, inbox.NewEvent("hubspot", "999", "k", "hubspot", {
        "portal_id": "999", "object_type": "contact", "object_id": "1", "action": "creation"}))
    assert list(results.values()) == ["HubSpot portal 999 is not connected to an account"]


def test_failed_write_keeps_assignment_and_queues_a_retry(container, client, headers, crm,
                                                          reps):
    make_router(client, headers, reps)
    crm.records["1"] = {"email": "a@x.org"}
    crm.fail_writes = "service unavailable"
    assert set(run(container, event("creation", 1)).values()) == {None}
    [decision] = decisions(container)
    assert decision.assigned and decision.sync_status == "failed"
    assert "service unavailable" in decision.sync_error and decision.next_sync_at is not None
    with container.db.session() as session:
        sync = session.scalars(select(InboxEventRow).where(
            InboxEventRow.kind == "hubspot_owner_sync")).one()
        assert sync.status == "failed" and "service unavailable" in sync.last_error
    crm.fail_writes = None
    inbox.replay(container.db, all_failed=True)
    InlineExecutor(container, default_handlers(container)).drain()
    assert crm.written == [("contact", "1", "900")]
    assert decisions(container)[0].sync_status == "synced"


def test_router_settings_start_on_is_validated(client, headers, reps):
    body = {"name": "r", "object_type": "contact",
            "settings": {"users": [], "start_on": ["change"]}}
    response = client.post("/routers", json=body, headers=headers)
    assert response.status_code == 400
    assert "watch_properties" in response.get_json()["message"]
    body["settings"]["start_on"] = ["sometimes"]
    assert client.post("/routers", json=body, headers=headers).status_code == 400
    body["settings"].update(start_on=["change"], watch_properties=["country"])
    assert client.post("/routers", json=body, headers=headers).status_code == 201


def test_rep_who_is_not_a_hubspot_owner_yet_is_retried_not_lost(container, client, headers,
                                                                crm, reps):
    make_router(client, headers, reps[:1])
    del crm.owners["ana@example.com"]
    crm.records["1"] = {"email": "a@x.org"}
    run(container, event("creation", 1))
    [decision] = decisions(container)
    assert decision.sync_status == "failed"
    assert decision.sync_error == "no HubSpot owner has the email ana@example.com"
    crm.owners["ana@example.com"] = "950"
    inbox.replay(container.db, all_failed=True)
    InlineExecutor(container, default_handlers(container)).drain()
    assert crm.written == [("contact", "1", "950")]


def test_a_change_event_keeps_an_assignment_whose_write_is_still_retried(
        container, client, headers, crm, reps):
    make_router(client, headers, reps[:1])
    crm.records["1"] = {"email": "a@x.org"}
    crm.fail_writes = "service unavailable"
    run(container, event("creation", 1))
    crm.fail_writes = None
    run(container, event("propertyChange", 1, property_name="email", property_value="b"))
    assert mirror(container, "1").owner_rep_id == reps[0]
    inbox.replay(container.db, all_failed=True)
    InlineExecutor(container, default_handlers(container)).drain()
    assert crm.written == [("contact", "1", "900")]
