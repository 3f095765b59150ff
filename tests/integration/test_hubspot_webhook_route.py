"""POST /webhooks/hubspot: signature first, then body checks; one insert; nothing stored
for anything refused."""

from __future__ import annotations

import dataclasses
import json
import logging
import time

import pytest

from adapters.hubspot.fake_server import make_event
from adapters.hubspot.signatures import sign_v1, sign_v2, sign_v3
from connector.bootstrap import bootstrap
from connector.jobs import inbox
from connector.web import create_app

SECRET = "route-test-secret"
URL = "http://localhost/webhooks/hubspot"


class CountingExecutor:
    def __init__(self) -> None:
        self.notified = 0

    def notify(self) -> None:
        self.notified += 1


@pytest.fixture
def hub(config):
    c = bootstrap(dataclasses.replace(config, hubspot_client_secret=SECRET))
    c.executor = CountingExecutor()
    yield c, create_app(container=c).test_client()
    c.executor = None
    c.close()


def signed(body: bytes, *, url: str = URL, ts: int | None = None) -> dict[str, str]:
    ts = int(time.time() * 1000) if ts is None else ts
    return {"Content-Type": "application/json", "X-HubSpot-Request-Timestamp": str(ts),
            "X-HubSpot-Signature-v3": sign_v3(SECRET, "POST", url, body, ts)}


def post(client, events_or_body, headers=None):
    body = events_or_body if isinstance(events_or_body, bytes) else json.dumps(
        events_or_body).encode()
    return client.post("/webhooks/hubspot", data=body, headers=headers or signed(body))


def test_batch_is_stored_once_and_the_executor_woken(hub):
    container, client = hub
    events = [make_event("contact.creation", 10 + i) for i in range(100)]
    response = post(client, events)
    assert response.status_code == 204 and response.data == b""
    assert inbox.counts(container.db) == {"pending": 100}
    assert container.executor.notified == 1
    assert post(client, events).status_code == 204
    assert inbox.counts(container.db) == {"pending": 100}


def test_same_event_id_with_other_occurred_at_is_a_different_event(hub):
    container, client = hub
    a = make_event("contact.propertyChange", 5, event_id=7, occurred_at=1000,
                   propertyName="email", propertyValue="x@y.z")
    b = {**a, "occurredAt": 2000}
    assert post(client, [a, b]).status_code == 204
    assert inbox.counts(container.db) == {"pending": 2}


def test_event_type_key_and_generic_object_types_are_accepted(hub):
    container, client = hub
    generic = make_event("object.creation", 9, objectTypeId="0-5")
    generic["eventType"] = generic.pop("subscriptionType")
    assert post(client, [generic]).status_code == 204
    [event] = inbox.claim(container.db)
    assert event.payload["object_type"] == "ticket" and event.payload["action"] == "creation"


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not valid JSON"),
    (b'{"a": 1}', "JSON array"),
    (json.dumps([{"portalId": 1}]).encode(), "missing subscriptionType"),
    (json.dumps([make_event("contact.creation", i) for i in range(101)]).encode(),
     "at most 100"),
])
def test_malformed_bodies_get_400_with_a_message_and_nothing_stored(hub, body, message):
    container, client = hub
    response = post(client, body)
    assert response.status_code == 400
    assert message in response.get_json()["message"]
    assert inbox.counts(container.db) == {}


def test_body_over_one_mebibyte_gets_413(hub):
    container, client = hub
    body = b"[" + b" " * (1024 * 1024) + b"]"
    assert post(client, body).status_code == 413
    assert inbox.counts(container.db) == {}


def test_bad_signatures_get_401_and_nothing_stored(hub):
    container, client = hub
    body = json.dumps([make_event("contact.creation", 1)]).encode()
    old = int(time.time() * 1000) - 6 * 60 * 1000
    future = int(time.time() * 1000) + 6 * 60 * 1000
    for headers in (signed(body, ts=old), signed(body, ts=future),
                    signed(body, url="http://localhost/other"),
                    {"Content-Type": "application/json"}):
        assert post(client, body, headers).status_code == 401
    assert inbox.counts(container.db) == {}


def test_v1_and_v2_signatures_are_accepted_when_configured(config):
    c = bootstrap(dataclasses.replace(config, hubspot_client_secret=SECRET,
                                      hubspot_signature_versions=("v3", "v2", "v1")))
    try:
        client = create_app(container=c).test_client()
        body = json.dumps([make_event("contact.creation", 1)]).encode()
        v1 = {"X-HubSpot-Signature": sign_v1(SECRET, body), "X-HubSpot-Signature-Version": "v1"}
        assert post(client, body, v1).status_code == 204
        body2 = json.dumps([make_event("contact.creation", 2)]).encode()
        v2 = {"X-HubSpot-Signature": sign_v2(SECRET, "POST", URL, body2),
              "X-HubSpot-Signature-Version": "v2"}
        assert post(client, body2, v2).status_code == 204
        assert inbox.counts(c.db) == {"pending": 2}
    finally:
        c.close()


def test_by_default_a_delivery_stripped_of_its_v3_signature_is_refused(hub):
    """HubSpot signs every delivery with v3 and v1; a captured one replayed without the
    (timestamped) v3 headers must not get in on its timeless v1 signature."""
    container, client = hub
    body = json.dumps([make_event("contact.creation", 1)]).encode()
    stripped = {"Content-Type": "application/json",
                "X-HubSpot-Signature": sign_v1(SECRET, body), "X-HubSpot-Signature-Version": "v1"}
    response = post(client, body, stripped)
    assert response.status_code == 401
    assert "X-HubSpot-Signature-v3" in response.get_json()["message"]
    assert inbox.counts(container.db) == {}
    assert post(client, body, {**stripped, **signed(body)}).status_code == 204


def test_signature_versions_come_from_the_environment():
    from connector.config import Config, ConfigError

    assert Config.from_env({}).hubspot_signature_versions == ("v3",)
    assert Config.from_env({"HUBSPOT_SIGNATURE_VERSIONS": "V3, v1"}) \
        .hubspot_signature_versions == ("v3", "v1")
    with pytest.raises(ConfigError, match="HUBSPOT_SIGNATURE_VERSIONS"):
        Config.from_env({"HUBSPOT_SIGNATURE_VERSIONS": "v4"})


def test_public_url_behind_a_proxy_is_what_is_verified(config):
    public = "https://connector.example.com/hooks"
    c = bootstrap(dataclasses.replace(config, hubspot_client_secret=SECRET, public_url=public))
    try:
        client = create_app(container=c).test_client()
        body = json.dumps([make_event("contact.creation", 1)]).encode()
        assert post(client, body).status_code == 401  # signed for the internal URL
        ok = signed(body, url=public + "/webhooks/hubspot")
        assert post(client, body, ok).status_code == 204
    finally:
        c.close()


def test_without_a_client_secret_the_route_accepts_nothing(container, caplog):
    with caplog.at_level(logging.WARNING):
        client = create_app(container=container).test_client()
    assert any("HUBSPOT_CLIENT_SECRET is not set" in r.getMessage() for r in caplog.records)
    body = json.dumps([make_event("contact.creation", 1)]).encode()
    response = post(client, body)
    assert response.status_code == 503
    assert "HUBSPOT_CLIENT_SECRET" in response.get_json()["message"]
    assert inbox.counts(container.db) == {}


def test_openapi_describes_the_hubspot_and_events_endpoints(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"/webhooks/hubspot", "/events", "/events/{id}/replay", "/events/replay",
            "/oauth/hubspot/install", "/oauth/hubspot/callback"} <= set(paths)
