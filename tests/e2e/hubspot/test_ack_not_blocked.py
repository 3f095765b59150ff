"""A webhook is acknowledged while a HubSpot call of an earlier batch hangs: no CRM call is
ever made while a database session (and SQLite's process-wide write lock) is held."""

from __future__ import annotations

import threading

import requests
from sqlalchemy import select

from adapters.hubspot.fake_server import make_event
from connector.store.models import InboxEventRow

from .conftest import make_router
from .harness import wait_for


def _statuses(service) -> dict[str, str]:
    with service.container.db.session() as session:
        return {row.payload["object_id"]: row.status
                for row in session.scalars(select(InboxEventRow))}


def test_webhook_is_answered_while_a_crm_call_hangs(service, fake, portal):
    make_router(service, portal)
    first, second = (fake.create_object("contacts", {"email": f"l{n}@example.org"})
                     for n in range(2))
    gate = threading.Event()
    fake.faults.hold = gate
    try:
        assert service.sender.send([make_event("contact.creation", int(first))]) \
            .status_code == 204
        assert fake.held.wait(30), "processing never called HubSpot"

        # the batch of ``first`` is inside a HubSpot call that cannot finish yet
        response = service.sender.send([make_event("contact.creation", int(second))])

        assert response.status_code == 204
        assert fake.holding >= 1 and not gate.is_set()  # answered before the call finished
        assert _statuses(service)[str(second)] in ("pending", "processing")
        listed = requests.get(service.url + "/events", headers=portal["headers"], timeout=10)
        assert listed.status_code == 200 and fake.holding >= 1
    finally:
        gate.set()
    wait_for(lambda: fake.owner_of("contacts", first) and fake.owner_of("contacts", second),
             what="both contacts assigned once HubSpot answers again")
    wait_for(lambda: set(_statuses(service).values()) == {"done"}, what="both events done")
