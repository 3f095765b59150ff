"""A small account for the console tests: two reps, a router with a trigger, a few
decisions, and inbox events including a dead letter."""

from __future__ import annotations

from dataclasses import dataclass

from connector.jobs import inbox
from connector.service.admin_users import create_admin
from tests.conftest import auth
from tests.integration.helpers import dispatch, make_contact, make_router, make_user

PASSWORD = "correct horse battery"


@dataclass
class Seeded:
    account_id: str
    email: str
    jane: str
    bob: str
    router_id: str
    contact_id: str
    dead_event_id: str


def seed(container, client, make_account, *, name: str = "Acme",
         email: str = "ops@acme.example") -> Seeded:
    account_id = make_account(name)
    headers = auth(account_id)
    create_admin(container.db, email, account_id, PASSWORD)
    jane = make_user(client, headers, f"jane@{name.lower()}.example", name="Jane Doe")
    bob = make_user(client, headers, f"bob@{name.lower()}.example", name="Bob Stone",
                    status="unavailable")
    router_id = make_router(
        client, headers, [jane, bob],
        trigger={"match": "any", "groups": [{"match": "all", "conditions": [
            {"field": "country", "operator": "equals", "value": "DE"}]}]})
    client.patch(f"/routers/{router_id}", json={"name": f"{name} inbound leads"},
                 headers=headers)
    contact_id = make_contact(client, headers, email=f"lead@{name.lower()}.example",
                              country="DE")
    assert dispatch(client, headers, router_id, contact_id).status_code == 200
    other = make_contact(client, headers, email=f"us@{name.lower()}.example", country="US")
    dispatch(client, headers, router_id, other)
    inbox.store_events(container.db, [
        inbox.NewEvent("hubspot", account_id, f"{name}-e1", "hubspot.contact",
                       {"objectId": 101, "properties": {"email": "a@b.example",
                                                        "country": "DE"}}),
        inbox.NewEvent("hubspot", account_id, f"{name}-e2", "hubspot.contact",
                       {"objectId": 102, "properties": {"country": "FR"}}),
    ])
    claimed = inbox.claim(container.db, limit=10)
    dead = next(e for e in claimed if e.payload["objectId"] == 101)
    inbox.fail(container.db, dead.id, "field 'email': required, but 'email' is empty",
               retryable=False)
    inbox.complete(container.db, [e.id for e in claimed if e.id != dead.id])
    return Seeded(account_id, email, jane, bob, router_id, contact_id, dead.id)


def sign_in(client, email: str, password: str = PASSWORD):
    page = client.get("/admin/login")
    token = _csrf_from(page.get_data(as_text=True))
    return client.post("/admin/login", data={"email": email, "password": password,
                                             "csrf_token": token})


def _csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def csrf(client, path: str = "/admin/routers") -> str:
    return _csrf_from(client.get(path).get_data(as_text=True))
