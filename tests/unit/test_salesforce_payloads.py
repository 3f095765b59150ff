"""Parsing of Outbound Messages and BYOC envelopes (no HTTP)."""

from __future__ import annotations

import pytest

from adapters.salesforce.fake_senders import ByocEventSender, OutboundMessageSender
from connector.web.salesforce_payloads import (
    PayloadError,
    ack,
    fault,
    parse_byoc,
    parse_outbound,
)


def test_outbound_message_notifications_become_records():
    body = OutboundMessageSender("u", "00D000000000001AAA").envelope(
        "Case", [{"Id": "500000000000001", "Subject": "A & B", "Priority": None},
                 {"Id": "500000000000002", "Subject": "<b>"}], ["04l1", "04l2"])

    org, notes = parse_outbound(body)

    assert org == "00D000000000001AAA"
    assert notes == [
        {"id": "04l1", "sobject": "Case",
         "record": {"Id": "500000000000001", "Subject": "A & B", "Priority": None}},
        {"id": "04l2", "sobject": "Case", "record": {"Id": "500000000000002",
                                                     "Subject": "<b>"}}]


def test_ack_and_fault_are_soap():
    assert b"<Ack>true</Ack>" in ack()
    assert b"<faultstring>a &lt;b&gt;</faultstring>" in fault("a <b>")


def test_a_single_envelope_or_a_list_is_accepted_and_keys_come_from_event_ids():
    sender = ByocEventSender("u", "s")
    one = sender.conversation_started("c-1", event_id="e-1")

    assert parse_byoc(b'{"eventId": "e-1", "eventType": "ConversationStarted", '
                      b'"data": {"conversationIdentifier": "c-1"}}')[0][:2] == \
        ("ConversationStarted", "e-1")
    import json

    (kind, key, data), = parse_byoc(json.dumps({"events": [one]}).encode())
    assert (kind, key, data["conversationIdentifier"]) == ("ConversationStarted", "e-1", "c-1")


def test_a_notification_without_record_id_is_refused():
    body = OutboundMessageSender("u", "00D000000000001").envelope("Lead", [{"Email": "x"}])
    with pytest.raises(PayloadError, match=r"Notification\[0\].sObject needs an Id"):
        parse_outbound(body)


def test_a_routing_requested_type_is_kept_for_the_processing_to_judge():
    import json

    sender = ByocEventSender("u", "s")
    odd = sender.routing_requested("c-1", routing_type="Consult")
    ((kind, _key, data),) = parse_byoc(json.dumps(odd).encode())
    assert kind == "RoutingRequested" and data["payload"]["routingType"] == "Consult"

    odd["data"]["payload"]["routingType"] = 3
    with pytest.raises(PayloadError, match="routingType must be a string"):
        parse_byoc(json.dumps(odd).encode())
