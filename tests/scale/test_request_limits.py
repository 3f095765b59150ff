"""Bodies over CONNECTOR_MAX_BODY_BYTES are refused with 413 and a JSON error, before any
of them is parsed or stored."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.hubspot.fake_server import WebhookSender, make_event
from connector.bootstrap import bootstrap
from connector.jobs import inbox
from connector.web import create_app
from tests.conftest import auth

SECRET = "limits-client-secret"


@pytest.fixture
def small(config):
    container = bootstrap(replace(config, max_body_bytes=4096, hubspot_client_secret=SECRET))
    yield container, create_app(container=container).test_client()
    container.close()


def test_api_bodies_over_the_limit_get_413(small, make_account):
    container, client = small
    headers = auth(make_account())
    big = {"fields": {"email": "a@b.test", "notes": "x" * 5000}}
    for path in ("/contacts", "/users", "/routers", "/dispatch/router"):
        response = client.post(path, json=big, headers=headers)
        assert response.status_code == 413, path
        assert response.get_json() == {"message": "Request body too large", "error": True}


def test_webhook_over_the_limit_gets_413_and_stores_nothing(small):
    container, client = small
    events = [make_event("contact.creation", n, note="y" * 100) for n in range(60)]
    import json

    body = json.dumps(events).encode()
    assert len(body) > 4096
    headers = WebhookSender("http://localhost/webhooks/hubspot", SECRET).signed_headers(body)
    response = client.post("/webhooks/hubspot", data=body, headers=headers)
    assert response.status_code == 413
    assert response.get_json()["error"] is True
    assert inbox.counts(container.db) == {}
    small_body = json.dumps(events[:2]).encode()
    ok = client.post("/webhooks/hubspot", data=small_body, headers=WebhookSender(
        "http://localhost/webhooks/hubspot", SECRET).signed_headers(small_body))
    assert ok.status_code == 204 and inbox.counts(container.db) == {"pending": 2}


def test_every_limit_is_a_400_naming_what_was_wrong_and_stores_nothing(small, make_account):
    """The limits of ``connector/web/limits.py`` on the API and the webhook alike, all
    under the body cap: nothing refused is stored."""
    import json

    container, client = small
    headers = auth(make_account())
    deep: dict = {}
    for _ in range(40):
        deep = {"k": deep}
    cases = [
        ({"email": "a@b.test", "crm_ids": deep}, "Invalid field 'crm_ids."),
        ({"email": "a\x00@b.test"}, "Invalid field 'email': contains a NUL character"),
        ({"email": "a@b.test", "name": "\ud800"}, "Invalid field 'name': contains an "
                                                  "unpaired UTF-16 surrogate"),
        ({"email": "a@b.test", "weight": 2**64}, "Invalid field 'weight': the number is "
                                                 "too large"),
    ]
    for body, message in cases:
        response = client.post("/users", data=json.dumps(body), headers={
            **headers, "Content-Type": "application/json"})
        assert response.status_code == 400, body
        assert response.get_json()["message"].startswith(message)
    assert client.get("/users", headers=headers).get_json()["results"] == []
    for path in ("/users?email=%00", "/users/%00"):
        assert client.get(path, headers=headers).status_code == 400
    events = [make_event("contact.creation", 1, note="x\x00")]
    body = json.dumps(events).encode()
    sender = WebhookSender("http://localhost/webhooks/hubspot", SECRET)
    refused = client.post("/webhooks/hubspot", data=body, headers=sender.signed_headers(body))
    assert refused.status_code == 400 and inbox.counts(container.db) == {}
    deep_body = ("[" * 1500 + "]" * 1500).encode()  # under the 4 KB body cap
    assert client.post("/webhooks/hubspot", data=deep_body,
                       headers=sender.signed_headers(deep_body)).status_code == 400
