"""A valid token whose account is missing or deactivated: every account-scoped endpoint
answers the same way (401 for a missing account, 403 for an inactive one), except
``POST /dispatch/router``, which keeps the seed's 200 outcomes."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.conftest import auth

TICKET = {"ticket_name": "Help", "pipeline": "p", "ticket_stage": "new"}

#: (method, path, json body) of every account-scoped endpoint family
REQUESTS = [
    ("post", "/contacts", {"fields": {"first_name": "Ada"}}),
    ("get", "/contacts", None),
    ("get", "/contacts/some-id", None),
    ("patch", "/contacts/some-id", {"fields": {"first_name": "Ada"}}),
    ("delete", "/contacts/some-id", None),
    ("post", "/tickets", {"fields": TICKET}),
    ("get", "/tickets", None),
    ("patch", "/tickets/some-id", {"fields": TICKET}),
    ("post", "/users", {"email": "jane@example.com"}),
    ("get", "/users", None),
    ("post", "/routers", {"name": "R", "object_type": "contact"}),
    ("get", "/routers", None),
    ("post", "/routers/some-id/publish", None),
    ("post", "/fields", {"object_type": "contact", "internal_name": "tier"}),
    ("get", "/fields", None),
    ("get", "/decisions", None),
    ("get", "/events", None),
    ("post", "/events/replay", {"all_failed": True}),
    ("get", "/conversations/abc", None),
    ("get", "/oauth/hubspot/install", None),
]


def _call(client, method, path, body, headers):
    kwargs = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    return getattr(client, method)(path, **kwargs)


@pytest.mark.parametrize("method,path,body", REQUESTS)
def test_token_for_a_missing_account_is_401(client, method, path, body):
    response = _call(client, method, path, body, auth("no-such-account"))
    assert response.status_code == 401, response.get_json()
    assert response.get_json() == {"message": "Missing account context", "error": True}


@pytest.mark.parametrize("method,path,body", REQUESTS)
def test_token_for_an_inactive_account_is_403(client, make_account, method, path, body):
    inactive = make_account("Sleepy", active=False)
    response = _call(client, method, path, body, auth(inactive))
    assert response.status_code == 403, response.get_json()
    assert response.get_json() == {"message": "Account is not active", "error": True}


def test_nothing_is_stored_for_a_missing_account(client, container):
    from sqlalchemy import func, select

    from connector.store.models import ObjectRow

    ghost = auth("no-such-account")
    assert client.post("/contacts", json={"fields": {"email": "a@example.com"}},
                       headers=ghost).status_code == 401
    assert client.post("/tickets", json={"fields": TICKET}, headers=ghost).status_code == 401
    with container.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(ObjectRow)) == 0


def test_an_inactive_account_can_still_read_itself(client, make_account):
    inactive = make_account("Sleepy", active=False)
    body = client.get("/account", headers=auth(inactive)).get_json()
    assert body["id"] == inactive and body["active"] is False
    assert client.get("/account", headers=auth("no-such-account")).status_code == 401


def test_dispatch_keeps_the_seed_outcomes(client, make_account):
    ghost = client.post("/dispatch/router", json={"router_id": "r", "object_id": "o"},
                        headers=auth("no-such-account"))
    assert ghost.status_code == 200 and ghost.get_json() == {"message": "Account not found"}
    inactive = make_account("Sleepy", active=False)
    sleepy = client.post("/dispatch/router", json={"router_id": "r", "object_id": "o"},
                         headers=auth(inactive))
    assert sleepy.status_code == 200
    assert sleepy.get_json() == {"message": "Account is not active"}


def test_a_constraint_error_that_is_not_a_duplicate_is_not_reported_as_one(container):
    """A foreign-key failure (here: an account that vanished) must surface as an error,
    never as the 409 of a duplicate record."""
    from connector.service import objects

    with pytest.raises(IntegrityError), container.db.session() as session:
        objects.create(session, "no-such-account", "contact",
                       {"fields": {"email": "a@example.com"}})


def test_a_duplicate_caught_only_by_the_database_is_still_409(container, account_id,
                                                                 monkeypatch):
    """When two requests race past the duplicate look-up, the unique index decides."""
    from connector.service import objects

    with container.db.session() as session:
        objects.create(session, account_id, "contact", {"fields": {"email": "a@example.com"}})
    monkeypatch.setattr(objects, "_check_duplicates", lambda *a, **k: None)
    with pytest.raises(objects.ObjectError) as caught, container.db.session() as session:
        objects.create(session, account_id, "contact", {"fields": {"email": "a@example.com"}})
    assert caught.value.status == 409


def test_openapi_documents_the_inactive_account_answer(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "403" in paths["/contacts"]["post"]["responses"]
    assert "403" in paths["/tickets"]["post"]["responses"]
    assert "403" in paths["/routers"]["post"]["responses"]
    assert "403" not in paths["/dispatch/router"]["post"]["responses"]
