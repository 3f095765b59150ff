"""A portal validation rule (enforced on API writes from HubSpot's ``2026-09`` version on)
refuses one record's owner write: that record fails with HubSpot's message, as
``hubspot_sync_failed``/``hubspot_error`` and on its decision, and the rest of its batch is
written. Through real HTTP, at the date-versioned paths; ``legacy`` paths are not checked.

HubSpot documents the refusal of a single write (400, ``MISSING_CONDITIONAL_REQUIRED_
PROPERTY``) but not whether a batch answers 207 for the refused record or 400 for all of
them; both are run (see the README's "Date-versioned API paths").
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from adapters.hubspot.fake_server import FakeHubSpot, make_event
from connector.store.models import DecisionRow, ObjectRow

from .conftest import connect_portal, make_router
from .harness import Running, wait_for

RULE_MESSAGE = "lead_tier is required because of a conditional property rule based on " \
               "[hs_lead_status]"


@pytest.fixture(params=["207", "400"])
def fake(request):
    with FakeHubSpot(rate_limit=190, validation_refusal=request.param) as hs:
        hs.add_validation_rule("contacts", "lead_tier", {"hs_lead_status": "QUALIFIED"})
        yield hs


def _contacts(fake):
    """Three leads; the middle one is QUALIFIED without a tier, which the rule refuses."""
    return [fake.create_object("contacts", {"email": "a@example.org"}),
            fake.create_object("contacts", {"email": "b@example.org",
                                            "hs_lead_status": "QUALIFIED"}),
            fake.create_object("contacts", {"email": "c@example.org",
                                            "hs_lead_status": "QUALIFIED", "lead_tier": "A"})]


def _sync(service):
    with service.container.db.session() as session:
        return {row.sync_status: row.sync_error for row in session.scalars(select(DecisionRow))}


def test_the_refused_record_fails_with_hubspots_message_and_the_rest_is_written(
        service, fake, portal):
    make_router(service, portal)
    ids = _contacts(fake)
    events = [make_event("contact.creation", int(i)) for i in ids]
    assert service.sender.send(events).status_code == 204

    wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "failed") == 1
             and service.count(DecisionRow, DecisionRow.sync_status == "synced") == 2,
             what="two owners written, one refused")
    assert fake.owner_of("contacts", ids[0]) and fake.owner_of("contacts", ids[2])
    assert fake.owner_of("contacts", ids[1]) is None
    error = _sync(service)["failed"]
    assert "VALIDATION_ERROR" in error and RULE_MESSAGE in error
    assert fake.calls["POST /crm/objects/{version}/{type}/batch/update"] >= 1
    assert not any(key.startswith(("POST /crm/v3", "GET /crm/v3")) for key in fake.calls)


def test_dispatch_reports_the_refusal_as_hubspot_sync_failed(service, fake, portal):
    router_id = make_router(service, portal, start_on=["change"],
                            watch_properties=["lifecyclestage"])
    cid = _contacts(fake)[1]
    assert service.sender.send([make_event("contact.creation", int(cid))]).status_code == 204
    wait_for(lambda: service.count(ObjectRow) == 1, what="the record mirrored")

    r = requests.post(service.url + "/dispatch/router", headers=portal["headers"],
                      json={"router_id": router_id, "object_id": cid}, timeout=30)
    body = r.json()
    assert r.status_code == 200 and body["success"] is True
    assert body["hubspot_sync_failed"] is True and RULE_MESSAGE in body["hubspot_error"]
    assert fake.owner_of("contacts", cid) is None

    failed = requests.get(service.url + "/events?status=failed", headers=portal["headers"],
                          timeout=10).json()["results"]
    assert [e["kind"] for e in failed] == ["hubspot_owner_sync"]
    assert RULE_MESSAGE in failed[0]["error"]

    with fake._lock:  # the admin fills the tier in: the replayed write goes through
        fake.objects["contacts"][cid]["properties"]["lead_tier"] = "B"
    r = requests.post(service.url + f"/events/{failed[0]['id']}/replay",
                      headers=portal["headers"], timeout=10)
    assert r.json() == {"replayed": 1}
    wait_for(lambda: fake.owner_of("contacts", cid) is not None, what="owner after replay")


def test_legacy_paths_are_not_checked_by_the_rule(fake, database_url):
    service = Running(fake, database_url, hubspot_api_version="legacy")
    try:
        portal = connect_portal(service, fake, names=("ana",))
        make_router(service, portal)
        ids = _contacts(fake)
        events = [make_event("contact.creation", int(i)) for i in ids]
        assert service.sender.send(events).status_code == 204
        owner = next(iter(portal["reps"].values()))
        wait_for(lambda: all(fake.owner_of("contacts", i) == owner for i in ids),
                 what="every owner written at /crm/v3")
        assert fake.calls["POST /crm/v3/objects/{type}/batch/update"] >= 1
        assert not any("{version}" in key for key in fake.calls)
    finally:
        service.stop()
