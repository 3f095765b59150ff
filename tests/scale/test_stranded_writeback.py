"""A process killed between committing an assignment and writing the owner to HubSpot
leaves the decision ``pending``. When the event comes back (its lease lapsed), the write is
finished - or only marked synced if it had landed - and the record is not assigned again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select, update

from adapters.hubspot.fake_server import FakeHubSpot, make_event
from connector.store.models import AccountRow, DecisionRow
from tests.e2e.harness import Running, wait_for


@pytest.fixture
def running(tmp_path):
    with FakeHubSpot() as fake:
        service = Running(fake, f"sqlite:///{tmp_path / 'db'}", lease_seconds=5)
        try:
            with service.container.db.session() as session:
                account = AccountRow(name="Acme", active=True)
                session.add(account)
                session.flush()
                account_id = account.id
            service.container.extras["hubspot"].portals.connect(str(fake.portal_id), account_id)
            headers = service.token(account_id)
            owner = fake.add_owner("ana@example.com")
            user = requests.post(service.url + "/users", json={"email": "ana@example.com"},
                                 headers=headers, timeout=10).json()["id"]
            assert requests.post(service.url + "/routers", headers=headers, timeout=10, json={
                "name": "R", "object_type": "contact", "published": True,
                "settings": {"users": [{"user_id": user}]}}).status_code == 201
            yield service, fake, owner
        finally:
            service.stop()


def _strand(service, fake, record, *, landed: bool) -> None:
    """Make it look as if the process died right after the assignment's commit."""
    with service.container.db.session() as session:
        session.execute(update(DecisionRow).values(
            sync_status="pending", created_at=datetime.now(UTC) - timedelta(hours=1)))
    if not landed:
        fake.objects["contacts"][record]["properties"]["hubspot_owner_id"] = None


def _decisions(service):
    with service.container.db.session() as session:
        return [(d.assigned, d.sync_status) for d in session.scalars(
            select(DecisionRow).order_by(DecisionRow.created_at))]


@pytest.mark.parametrize("landed", [False, True], ids=["write-lost", "write-landed"])
def test_redelivered_event_finishes_a_stranded_write_back(running, landed):
    service, fake, owner = running
    record = fake.create_object("contacts", {"email": "lead@x.test"})
    assert service.sender.send([make_event("contact.creation", int(record))]).status_code == 204
    wait_for(lambda: fake.owner_of("contacts", record) == owner)
    wait_for(lambda: _decisions(service) == [(True, "synced")])
    _strand(service, fake, record, landed=landed)
    writes_before = len(fake.owner_writes)

    again = make_event("contact.creation", int(record))  # processed again, new delivery key
    assert service.sender.send([again]).status_code == 204
    wait_for(lambda: _decisions(service)[0] == (True, "synced"))
    assert fake.owner_of("contacts", record) == owner
    assert len(fake.owner_writes) == writes_before + (0 if landed else 1)
    assert [a for a, _ in _decisions(service)].count(True) == 1  # never assigned twice
