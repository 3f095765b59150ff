"""An account connected to two HubSpot portals: the owner of a record is written back to
the portal the record came from."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from adapters.hubspot.auth import StaticToken
from adapters.hubspot.client import HubSpotClient
from adapters.hubspot.fake_server import FakeHubSpot, make_event
from connector.jobs import inbox
from connector.store.models import DecisionRow, InboxEventRow, ObjectRow

from .conftest import make_router
from .harness import wait_for

SECOND_PORTAL = 70001


@pytest.fixture
def second(service, fake, portal):
    """A second fake portal connected to the same account, with the same reps as owners
    (under other owner ids); each portal's client talks to its own fake."""
    with FakeHubSpot(rate_limit=190, portal_id=SECOND_PORTAL) as other:
        other.add_owner("someone@example.com")  # owner ids differ between the portals
        owners = {email: other.add_owner(email) for email in
                  ("ana@example.com", "ben@example.com", "cy@example.com")}
        fakes = {str(fake.portal_id): fake, str(SECOND_PORTAL): other}
        portals = service.container.extras["hubspot"].portals
        portals._factory = lambda portal_id, tokens, save, interactive: HubSpotClient(
            StaticToken(fakes[portal_id].token), base_url=fakes[portal_id].url)
        portals.connect(str(fake.portal_id), portal["account_id"])
        portals.connect(str(SECOND_PORTAL), portal["account_id"])
        yield other, owners


def test_owner_is_written_to_the_portal_the_record_came_from(service, fake, portal, second):
    other, owners = second
    router_id = make_router(service, portal, start_on=["change"],
                            watch_properties=["lifecyclestage"])
    fake.create_object("contacts", {"email": "first@example.org"})  # ids differ too
    cid = other.create_object("contacts", {"email": "lead@example.org"})
    event = make_event("contact.creation", int(cid), portal_id=SECOND_PORTAL)
    assert service.sender.send([event]).status_code == 204
    wait_for(lambda: service.count(ObjectRow) == 1, what="the record mirrored")
    with service.container.db.session() as session:
        assert session.scalars(select(ObjectRow.source_account)).one() == str(SECOND_PORTAL)

    r = requests.post(service.url + "/dispatch/router", headers=portal["headers"],
                      json={"router_id": router_id, "object_id": cid}, timeout=30)
    body = r.json()
    assert r.status_code == 200 and body["success"] is True, body
    assert "hubspot_sync_failed" not in body
    assert other.owner_of("contacts", cid) == owners[body["user"]]
    assert fake.operation_calls("batch/update") == 0
    with service.container.db.session() as session:
        assert session.scalars(select(DecisionRow.sync_status)).one() == "synced"


def test_record_of_a_portal_moved_to_another_account_is_not_written_elsewhere(
        service, fake, portal, second):
    from connector.store.models import AccountRow

    other, _owners = second
    router_id = make_router(service, portal, start_on=["change"],
                            watch_properties=["lifecyclestage"])
    cid = other.create_object("contacts", {"email": "lead@example.org"})
    event = make_event("contact.creation", int(cid), portal_id=SECOND_PORTAL)
    assert service.sender.send([event]).status_code == 204
    wait_for(lambda: service.count(ObjectRow) == 1, what="the record mirrored")
    with service.container.db.session() as session:
        row = AccountRow(name="Elsewhere", active=True)
        session.add(row)
        session.flush()
        elsewhere = row.id
    service.container.extras["hubspot"].portals.connect(str(SECOND_PORTAL), elsewhere, move=True)

    r = requests.post(service.url + "/dispatch/router", headers=portal["headers"],
                      json={"router_id": router_id, "object_id": cid}, timeout=30)
    body = r.json()
    assert body["success"] is True and body["hubspot_sync_failed"] is True
    assert "no longer connected to this account" in body["hubspot_error"]
    assert other.owner_of("contacts", cid) is None
    assert fake.operation_calls("batch/update") == 0
    # its retry does not write into the portal's new account either: a dead letter
    inbox.replay(service.container.db, all_failed=True)
    wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "dead") == 1
             and service.count(InboxEventRow, InboxEventRow.kind == "hubspot_owner_sync",
                               InboxEventRow.status == "dead") == 1,
             what="the write-back and its event dead letters")
    with service.container.db.session() as session:
        sync = session.scalars(select(InboxEventRow)
                               .where(InboxEventRow.kind == "hubspot_owner_sync")).one()
        assert sync.status == "dead" and "no longer connected" in sync.last_error
    assert other.owner_of("contacts", cid) is None
