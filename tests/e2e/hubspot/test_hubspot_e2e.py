"""End to end through real HTTP: FakeHubSpot <- connector <- signed webhooks."""

from __future__ import annotations

import json
import time
from collections import Counter

import requests
from sqlalchemy import select

from adapters.hubspot.fake_server import WebhookSender, make_event
from connector.store.models import DecisionRow, InboxEventRow, ObjectRow

from .conftest import make_router
from .harness import CLIENT_SECRET, wait_for


def _contacts(fake, n, start=0):
    return [fake.create_object("contacts", {"email": f"lead{start + i}@example.org",
                                            "country": "DE"}) for i in range(n)]


def _all_owned(fake, ids):
    return all(fake.owner_of("contacts", i) for i in ids)


def test_signed_batches_in_owners_written_fairly_in_batches(service, fake, portal):
    make_router(service, portal)
    ids = _contacts(fake, 150)
    events = [make_event("contact.creation", int(i)) for i in ids]
    assert service.sender.send_all(events) == [204, 204]
    wait_for(lambda: _all_owned(fake, ids), what="every owner written")

    owners = Counter(fake.owner_of("contacts", i) for i in ids)
    assert owners == {o: 50 for o in portal["reps"].values()}
    writes = fake.operation_calls("batch/update")
    reads = fake.operation_calls("batch/read")
    assert writes + reads <= 8  # batches of up to 100, never one call per record
    wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "synced") == 150)
    with service.container.db.session() as session:
        statuses = Counter(session.scalars(select(DecisionRow.sync_status)))
    assert statuses == {"synced": 150}


def test_redelivered_batches_change_nothing(service, fake, portal):
    make_router(service, portal)
    ids = _contacts(fake, 20)
    events = [make_event("contact.creation", int(i)) for i in ids]
    assert service.sender.send(events).status_code == 204
    wait_for(lambda: _all_owned(fake, ids))
    wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "synced") == 20)
    before = (service.inbox_count(), service.decisions(), len(fake.owner_writes))

    for _ in range(3):  # HubSpot re-delivers with the same key (attemptNumber may differ)
        again = [{**e, "attemptNumber": 1} for e in events]
        assert service.sender.send(again).status_code == 204
    wait_for(lambda: service.count(InboxEventRow, InboxEventRow.status.in_(
        ("pending", "processing"))) == 0, what="the inbox idle")
    assert (service.inbox_count(), service.decisions(), len(fake.owner_writes)) == before


def test_tampered_stale_or_missing_signature_is_refused_and_nothing_stored(service, fake,
                                                                            portal):
    make_router(service, portal)
    url = service.url + "/webhooks/hubspot"
    body = json.dumps([make_event("contact.creation", 1)]).encode()
    good = service.sender.signed_headers(body)

    tampered = body.replace(b'"objectId": 1', b'"objectId": 2')
    assert tampered != body
    assert requests.post(url, data=tampered, headers=good, timeout=10).status_code == 401

    stale = WebhookSender(url, CLIENT_SECRET, clock=lambda: time.time() - 600)
    r = stale.send([make_event("contact.creation", 1)])
    assert r.status_code == 401 and "older than 5 minutes" in r.json()["message"]

    wrong_key = WebhookSender(url, "not-the-secret")
    assert wrong_key.send([make_event("contact.creation", 1)]).status_code == 401

    r = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] is True
    assert service.inbox_count() == 0

    assert requests.post(url, data=body, headers=good, timeout=10).status_code == 204
    assert service.inbox_count() == 1


def test_our_own_owner_write_does_not_loop(service, fake, portal):
    make_router(service, portal, start_on=["creation", "change"],
                watch_properties=["hubspot_owner_id"], overwrite="always")
    [cid] = _contacts(fake, 1)
    assert service.sender.send([make_event("contact.creation", int(cid))]).status_code == 204
    wait_for(lambda: fake.owner_of("contacts", cid))
    wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "synced") == 1)
    written = fake.owner_of("contacts", cid)

    echoes = [  # what HubSpot sends back for our write: with and without our app's sourceId
        make_event("contact.propertyChange", int(cid), propertyName="hubspot_owner_id",
                   propertyValue=written, changeSource="INTEGRATION", sourceId="1000"),
        make_event("contact.propertyChange", int(cid), propertyName="hubspot_owner_id",
                   propertyValue=written, changeSource="API"),
    ]
    assert service.sender.send(echoes).status_code == 204
    wait_for(lambda: service.count(InboxEventRow, InboxEventRow.status == "done") == 3)
    assert service.decisions() == 1
    assert len(fake.owner_writes) == 1

    # a person changing the owner in HubSpot is not our echo: that does start the router
    other = next(o for o in portal["reps"].values() if o != written)
    fake.objects["contacts"][cid]["properties"]["hubspot_owner_id"] = other
    human = make_event("contact.propertyChange", int(cid), propertyName="hubspot_owner_id",
                       propertyValue=other, changeSource="CRM_UI", sourceId="userId:42")
    assert service.sender.send([human]).status_code == 204
    wait_for(lambda: service.decisions() == 2)
    wait_for(lambda: len(fake.owner_writes) == 2)


def test_429_storms_and_5xx_are_survived_with_every_owner_written(service, fake, portal):
    make_router(service, portal)
    ids = _contacts(fake, 120)
    fake.faults.force_429 = 6
    fake.faults.error_rate = 0.3
    events = [make_event("contact.creation", int(i)) for i in ids]
    assert service.sender.send_all(events) == [204, 204]
    wait_for(lambda: _all_owned(fake, ids), timeout=120, what="owners despite faults")
    fake.faults.error_rate = 0.0
    assert fake.rate_limited >= 6
    assert Counter(fake.owner_of("contacts", i) for i in ids) == {
        o: 40 for o in portal["reps"].values()}


def test_permanent_failure_reports_sync_failed_and_replays_after_fault_clears(
        service, fake, portal):
    router_id = make_router(service, portal, start_on=["change"],
                            watch_properties=["lifecyclestage"])
    [cid] = _contacts(fake, 1)
    # the creation mirrors the record but does not start this router
    assert service.sender.send([make_event("contact.creation", int(cid))]).status_code == 204
    wait_for(lambda: service.count(ObjectRow) == 1)
    fake.faults.record_errors[cid] = "VALIDATION_ERROR"

    r = requests.post(service.url + "/dispatch/router", headers=portal["headers"],
                      json={"router_id": router_id, "object_id": cid}, timeout=30)
    body = r.json()
    assert r.status_code == 200 and body["success"] is True
    assert body["message"] == "The object was successfully assigned"
    assert body["hubspot_sync_failed"] is True
    assert "VALIDATION_ERROR" in body["hubspot_error"]
    assert fake.owner_of("contacts", cid) is None

    failed = requests.get(service.url + "/events?status=failed", headers=portal["headers"],
                          timeout=10).json()["results"]
    assert [e["kind"] for e in failed] == ["hubspot_owner_sync"]
    assert "VALIDATION_ERROR" in failed[0]["error"]

    fake.faults.record_errors.clear()
    r = requests.post(service.url + f"/events/{failed[0]['id']}/replay",
                      headers=portal["headers"], timeout=10)
    assert r.json() == {"replayed": 1}
    wait_for(lambda: fake.owner_of("contacts", cid) is not None, what="owner after replay")
    wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "synced") == 1)
    assert fake.owner_of("contacts", cid) == portal["reps"][body_user_id(service, body)]


def body_user_id(service, body):
    with service.container.db.session() as session:
        return session.scalars(select(DecisionRow.rep_id).where(
            DecisionRow.assigned.is_(True))).one()


def test_failed_write_is_retried_on_the_schedule_without_replay(service, fake, portal):
    make_router(service, portal)
    ids = _contacts(fake, 3)
    fake.faults.record_errors[ids[1]] = "INTERNAL_ERROR"  # 207: that one record fails
    events = [make_event("contact.creation", int(i)) for i in ids]
    assert service.sender.send(events).status_code == 204
    wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "failed") == 1)
    assert fake.owner_of("contacts", ids[0]) and fake.owner_of("contacts", ids[2])
    assert fake.owner_of("contacts", ids[1]) is None
    fake.faults.record_errors.clear()
    wait_for(lambda: fake.owner_of("contacts", ids[1]) is not None, timeout=30,
             what="the first scheduled retry (5 s)")
    wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "synced") == 3)
