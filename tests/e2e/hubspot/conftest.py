from __future__ import annotations

import pytest
import requests

from adapters.hubspot.fake_server import FakeHubSpot

from .harness import CLIENT_SECRET, Running


@pytest.fixture
def fake():
    # the app's client secret is the one the connector checks signatures with
    with FakeHubSpot(rate_limit=190, client_secret=CLIENT_SECRET) as hs:
        yield hs


@pytest.fixture
def service(fake, database_url):
    """SQLite by default; ``TEST_DATABASE=postgres`` runs the same flow on PostgreSQL."""
    running = Running(fake, database_url)
    yield running
    running.stop()


@pytest.fixture
def portal(service, fake):
    """An account connected to the fake's portal, with three reps who are HubSpot owners."""
    return connect_portal(service, fake)


def connect_portal(service, fake, names=("ana", "ben", "cy")):
    """A new account connected to the fake's portal, with ``names`` as reps who are HubSpot
    owners: ``{"account_id", "headers", "reps": {rep id: owner id}}``."""
    from connector.store.models import AccountRow

    with service.container.db.session() as session:
        row = AccountRow(name="Acme", active=True)
        session.add(row)
        session.flush()
        account_id = row.id
    service.container.extras["hubspot"].portals.connect(str(fake.portal_id), account_id)
    headers = service.token(account_id)
    reps = {}
    for name in names:
        email = f"{name}@example.com"
        owner_id = fake.add_owner(email, name.capitalize())
        r = requests.post(service.url + "/users", json={"email": email}, headers=headers,
                          timeout=10)
        assert r.status_code == 201, r.text
        reps[r.json()["id"]] = owner_id
    return {"account_id": account_id, "headers": headers, "reps": reps}


def make_router(service, portal, **settings):
    body = {"name": "Inbound", "object_type": settings.pop("object_type", "contact"),
            "published": True,
            "settings": {"users": [{"user_id": u} for u in portal["reps"]], **settings}}
    r = requests.post(service.url + "/routers", json=body, headers=portal["headers"],
                      timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["id"]
