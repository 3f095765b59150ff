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
