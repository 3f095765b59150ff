"""``POST /dispatch/router`` answers in bounded time when HubSpot hangs: the assignment is
kept, the answer says the write-back failed, and the retry schedule writes it later."""

from __future__ import annotations

import threading
import time

import requests

from adapters.hubspot.fake_server import make_event
from connector.store.models import DecisionRow, ObjectRow

from .conftest import make_router
from .harness import wait_for


def test_dispatch_answers_within_bounds_while_hubspot_hangs(service, fake, portal):
    router_id = make_router(service, portal, start_on=["change"],
                            watch_properties=["lifecyclestage"])
    cid = fake.create_object("contacts", {"email": "lead@example.org"})
    assert service.sender.send([make_event("contact.creation", int(cid))]).status_code == 204
    wait_for(lambda: service.count(ObjectRow) == 1, what="the record mirrored")

    gate = threading.Event()
    fake.faults.hold = gate  # every HubSpot call now hangs (up to 60 s in the fake)
    try:
        started = time.monotonic()
        r = requests.post(service.url + "/dispatch/router", headers=portal["headers"],
                          json={"router_id": router_id, "object_id": cid}, timeout=90)
        elapsed = time.monotonic() - started
        assert fake.held.is_set()
    finally:
        gate.set()
    body = r.json()
    assert elapsed < 20, f"answered after {elapsed:.1f} s"
    assert r.status_code == 200 and body["success"] is True, body
    assert body["hubspot_sync_failed"] is True
    assert "timed out" in body["hubspot_error"] and "Bearer" not in body["hubspot_error"]

    fake.faults.hold = None
    wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "synced") == 1,
             timeout=40, what="the write-back retried on the schedule")
    assert fake.owner_of("contacts", cid) in portal["reps"].values()
