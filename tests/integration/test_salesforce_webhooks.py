"""The Salesforce webhook routes through Flask's test client: signatures, validation
messages, deduplication, Outbound Message Ack and faults."""

from __future__ import annotations

import json
import time

import pytest

from adapters.salesforce.fake_senders import ByocEventSender, OutboundMessageSender
from connector.bootstrap import bootstrap
from connector.core.webhook_signature import sign
from connector.jobs.inbox import counts
from connector.store.models import InboxEventRow
from connector.web import create_app

SECRET = "whsec-" + "z" * 20
ORG = "00D000000000001"
OUTBOUND_SECRET = "outbound-" + "q" * 24
OUTBOUND = f"/webhooks/salesforce/outbound/{OUTBOUND_SECRET}"


@pytest.fixture
def sf_app(config):
    container = bootstrap(config.with_overrides({"salesforce_webhook_secret": SECRET,
                                                 "salesforce_org_id": ORG,
                                                 "salesforce_outbound_secrets":
                                                     (OUTBOUND_SECRET,)}))
    yield create_app(container=container)
    container.close()


@pytest.fixture
def sf_client(sf_app):
    return sf_app.test_client()


def post(client, body: bytes, *, at: float | None = None, secret: str = SECRET):
    header = sign(secret, body, int(at if at is not None else time.time()))
    return client.post("/webhooks/salesforce", data=body,
                       headers={"Content-Type": "application/json",
                                "X-Connector-Signature": header})


def events(*items) -> bytes:
    return json.dumps({"events": list(items)}).encode()


builder = ByocEventSender("http://unused", SECRET)


def test_signed_events_are_stored_once_and_duplicates_acknowledged(sf_client, sf_app):
    started = builder.conversation_started("conv-1", event_id="e-1")
    body = events(started, builder.routing_requested("conv-1", event_id="e-2"))

    first = post(sf_client, body)
    again = post(sf_client, body)

    assert first.status_code == 200 and first.get_json() == {"received": 2, "duplicates": 0}
    assert again.get_json() == {"received": 2, "duplicates": 2}
    db = sf_app.config["CONTAINER"].db
    with db.session() as session:
        rows = session.query(InboxEventRow).all()
        assert {r.kind for r in rows} == {"salesforce"}
        assert {r.payload["eventType"] for r in rows} == {"ConversationStarted",
                                                         "RoutingRequested"}


def test_events_without_ids_are_deduplicated_by_content(sf_client):
    item = builder.work_result("conv-1", "Accepted")
    item.pop("eventId")
    post(sf_client, events(item))
    assert post(sf_client, events(item)).get_json()["duplicates"] == 1


@pytest.mark.parametrize("signature_at,secret", [(time.time() - 301, SECRET),
                                                 (time.time(), "wrong-secret")])
def test_stale_or_wrong_signatures_get_401_and_nothing_is_stored(sf_client, sf_app,
                                                                  signature_at, secret):
    resp = post(sf_client, events(builder.conversation_started("c")), at=signature_at,
                secret=secret)

    assert resp.status_code == 401
    assert resp.get_json()["error"] is True and "Invalid signature" in resp.get_json()["message"]
    assert counts(sf_app.config["CONTAINER"].db) == {}


def test_missing_signature_header_is_401(sf_client):
    resp = sf_client.post("/webhooks/salesforce", data=b"{}",
                          headers={"Content-Type": "application/json"})
    assert resp.status_code == 401


@pytest.mark.parametrize("body,message", [
    (b"not json", "Invalid JSON body"),
    (json.dumps({"events": []}).encode(), "events must be a non-empty list"),
    (json.dumps({"events": [{}] * 501}).encode(), "events: at most 500 per request"),
    (events({"eventType": "Nope", "data": {}}), "events[0].eventType must be one of"),
    (events({"eventType": "ConversationStarted", "data": {}}),
     "events[0].data.conversationIdentifier is required"),
    (events({"eventType": "RoutingRequested", "data": {"channelAddressIdentifier": "x",
                                                      "payload": {}}}),
     "events[0].data.payload.conversationIdentifier is required"),
    (events({"eventType": "RoutingRequested", "data": {
        "channelAddressIdentifier": "x", "payload": {
            "conversationIdentifier": "c", "routingParameters": {"channelData": "{oops"}}}}),
     "channelData must be a JSON string"),
    (events({"eventType": "Interaction", "data": {"conversationIdentifier": "c", "payload": {
        "entryType": "RoutingWorkResult", "entryPayload": {"workType": "Bogus"}}}}),
     "entryPayload.workType must be one of"),
    (events({"eventType": "Interaction", "data": {"conversationIdentifier": "c", "payload": {
        "entryType": "RoutingResult", "entryPayload": {"failureType": "Bad"}}}}),
     "entryPayload.failureType must be one of"),
])
def test_malformed_bodies_get_400_naming_the_field(sf_client, sf_app, body, message):
    resp = post(sf_client, body)

    assert resp.status_code == 400
    assert message in resp.get_json()["message"]
    assert counts(sf_app.config["CONTAINER"].db) == {}


def test_without_settings_the_routes_refuse_and_store_nothing(client, container):
    resp = client.post("/webhooks/salesforce", data=b"{}",
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 503
    assert "SALESFORCE_WEBHOOK_SECRET is not set" in resp.get_json()["message"]
    resp = client.post("/webhooks/salesforce/outbound", data=b"<x/>",
                       headers={"Content-Type": "text/xml"})
    assert resp.status_code == 503
    assert "SALESFORCE_ORG_ID and SALESFORCE_OUTBOUND_SECRETS are not set" in \
        resp.get_json()["message"]
    assert counts(container.db) == {}


def test_outbound_message_is_acked_after_storing(sf_client, sf_app):
    sender = OutboundMessageSender("http://unused", ORG + "AAA")
    body = sender.envelope("Lead", [{"Id": "00Q000000000001", "Email": "a@example.com",
                                     "Company": None}], ["04l000000000001"])

    resp = sf_client.post(OUTBOUND, data=body,
                          headers={"Content-Type": "text/xml"})

    assert resp.status_code == 200 and b"<Ack>true</Ack>" in resp.data
    with sf_app.config["CONTAINER"].db.session() as session:
        (row,) = session.query(InboxEventRow).all()
        assert row.payload["sobject"] == "Lead"
        assert row.payload["record"] == {"Id": "00Q000000000001", "Email": "a@example.com",
                                         "Company": None}


@pytest.mark.parametrize("body,message", [
    (b"<not-xml", b"not well-formed"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', b"DOCTYPE"),
    (b"<x/>", b"no notifications"),
])
def test_bad_outbound_messages_get_a_soap_fault(sf_client, sf_app, body, message):
    resp = sf_client.post(OUTBOUND, data=body,
                          headers={"Content-Type": "text/xml"})

    assert resp.status_code == 500 and b"<soapenv:Fault>" in resp.data and message in resp.data
    assert counts(sf_app.config["CONTAINER"].db) == {}


def test_outbound_from_another_org_gets_a_fault(sf_client):
    body = OutboundMessageSender("http://unused", "00D000000000999").envelope(
        "Lead", [{"Id": "00Q000000000001"}])
    resp = sf_client.post(OUTBOUND, data=body)
    assert resp.status_code == 500 and b"OrganizationId does not match" in resp.data


def test_router_destination_is_validated_with_a_message_naming_the_field(client, headers):
    body = {"name": "Chat", "object_type": "conversation",
            "settings": {"destination": {"kind": "flow", "flow_id": "300000000000001"}}}

    resp = client.post("/routers", json=body, headers=headers)

    assert resp.status_code == 400
    assert resp.get_json()["message"] == (
        "Invalid field 'settings.destination': destination.fallback_queue_id (or "
        "fallback_queue) is required for a flow destination")


def test_a_record_router_may_only_name_a_queue(client, headers):
    body = {"name": "Leads", "object_type": "lead",
            "settings": {"destination": {"kind": "flow", "flow_id": "300000000000001",
                                         "fallback_queue": "Support"}}}

    resp = client.post("/routers", json=body, headers=headers)

    assert resp.status_code == 400
    assert "destination kind 'flow' applies to conversation routers only" in \
        resp.get_json()["message"]


def test_a_failed_insert_answers_a_soap_fault_so_salesforce_resends(sf_client, sf_app,
                                                                    monkeypatch):
    from sqlalchemy.exc import OperationalError

    import connector.web.salesforce as web

    def unavailable(db, events):
        raise OperationalError("INSERT INTO inbox_events", {}, Exception("database is locked"))

    body = OutboundMessageSender("http://unused", ORG).envelope(
        "Lead", [{"Id": "00Q000000000001", "Email": "a@example.com"}], ["04l000000000001"])
    monkeypatch.setattr(web, "store_events", unavailable)

    resp = sf_client.post(OUTBOUND, data=body,
                          headers={"Content-Type": "text/xml"})

    assert resp.status_code == 500 and resp.content_type.startswith("text/xml")
    assert b"<faultcode>soapenv:Server</faultcode>" in resp.data
    assert b"could not store the notifications" in resp.data
    assert b"<Ack>" not in resp.data and b"database is locked" not in resp.data
    assert counts(sf_app.config["CONTAINER"].db) == {}

    monkeypatch.undo()  # Salesforce sends the same message again
    resend = sf_client.post(OUTBOUND, data=body,
                            headers={"Content-Type": "text/xml"})
    assert resend.status_code == 200 and b"<Ack>true</Ack>" in resend.data
    assert counts(sf_app.config["CONTAINER"].db) == {"pending": 1}
