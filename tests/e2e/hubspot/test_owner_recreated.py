"""A HubSpot user removed and invited again gets a new owner id: the write refused for the
old id is retried on the schedule with the new one."""

from __future__ import annotations

import requests
from sqlalchemy import select

from adapters.hubspot.fake_server import make_event
from connector.store.models import DecisionRow, InboxEventRow, ObjectRow

from .conftest import make_router
from .harness import wait_for


def _dispatch(service, portal, router_id, cid):
    r = requests.post(service.url + "/dispatch/router", headers=portal["headers"],
                      json={"router_id": router_id, "object_id": cid}, timeout=30)
    assert r.status_code == 200 and r.json()["success"] is True, r.text
    return r.json()


def test_owner_id_changes_between_writes_and_the_retry_uses_the_new_one(service, fake, portal):
    router_id = make_router(service, portal, start_on=["change"],
                            watch_properties=["lifecyclestage"])
    first, second = (fake.create_object("contacts", {"email": f"l{n}@example.org"})
                     for n in range(2))
    events = [make_event("contact.creation", int(first)),
              make_event("contact.creation", int(second))]
    assert service.sender.send(events).status_code == 204
    wait_for(lambda: service.count(ObjectRow) == 2, what="both records mirrored")
    workers_client = service.container.extras["hubspot"].portals.client_for(str(fake.portal_id))
    old_ids = set(portal["reps"].values())
    assert {workers_client.owner_id_for_email(f"{n}@example.com")
            for n in ("ana", "ben", "cy")} == old_ids  # the workers' cache is warm

    assert "hubspot_sync_failed" not in _dispatch(service, portal, router_id, first)
    assert fake.owner_of("contacts", first) in old_ids

    for owner in list(fake.owners):  # every rep removed from the portal and invited again
        fake.archive_owner(owner["id"])
        fake.add_owner(owner["email"], owner["firstName"])
    new_ids = {o["id"] for o in fake.owners if not o["archived"]}

    body = _dispatch(service, portal, router_id, second)
    assert body["hubspot_sync_failed"] is True
    assert "INVALID_OWNER_ID" in body["hubspot_error"]

    wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "synced") == 2,
             timeout=25, what="the first scheduled retry (5 s) writing the new owner id")
    assert fake.owner_of("contacts", second) in new_ids
    with service.container.db.session() as session:
        sync = session.scalars(select(InboxEventRow).where(
            InboxEventRow.kind == "hubspot_owner_sync")).one()
        assert sync.attempts == 1  # the refusal in the API call; the first retry wrote it
