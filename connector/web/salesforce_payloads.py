"""Wire formats of the Salesforce webhooks: BYOC event envelopes (JSON) and Outbound
Messages (SOAP). Parsing only; storing and processing happen elsewhere.

A BYOC delivery is one envelope or ``{"events": [envelope, ...]}``; an envelope is
``{"eventId": "...", "eventType": "...", "data": {...}}`` where ``data`` has the shape of
Salesforce's outbound custom event payload for that type:

* ``ConversationStarted``: ``conversationIdentifier``, ``channelAddressIdentifier``,
  end-user fields (``endUserClientIdentifier``, ``attributes``...);
* ``RoutingRequested``: ``channelAddressIdentifier``, ``recipient``, ``payload`` (a
  ``RoutingRequestedEvent``: ``conversationIdentifier``, ``routingType``,
  ``routingParameters`` with ``channelData`` as a JSON string, ``workRecordId``);
* ``Interaction``: an ``InteractionEvent`` whose ``payload`` is a conversation entry of
  type ``RoutingWorkResult`` (``workType``, ``workId``...) or ``RoutingResult``
  (``failureType``, ``errorMessages``...).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

EVENT_TYPES = ("ConversationStarted", "RoutingRequested", "Interaction")
WORK_TYPES = ("Assigned", "Accepted", "Cancelled", "Closed", "Declined", "TransferError",
              "Transferred")
FAILURE_TYPES = ("None", "Unknown", "SubmissionError", "RoutingError", "Cancelled")
MAX_EVENTS = 500


class PayloadError(ValueError):
    """The body is malformed; the message names the field."""


def _require(obj: Any, key: str, where: str, kind: type = str) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None or (kind is str and value == ""):
        raise PayloadError(f"{where}.{key} is required")
    if not isinstance(value, kind):
        raise PayloadError(f"{where}.{key} must be a{'n object' if kind is dict else ' string'}")
    return value


def _check(event: Any, where: str) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(event, dict):
        raise PayloadError(f"{where} must be an object")
    kind = event.get("eventType")
    if kind not in EVENT_TYPES:
        raise PayloadError(f"{where}.eventType must be one of {', '.join(EVENT_TYPES)}")
    data = _require(event, "data", where, dict)
    here = f"{where}.data"
    if kind == "ConversationStarted":
        _require(data, "conversationIdentifier", here)
    elif kind == "RoutingRequested":
        _require(data, "channelAddressIdentifier", here)
        payload = _require(data, "payload", here, dict)
        _require(payload, "conversationIdentifier", f"{here}.payload")
        if not isinstance(payload.get("routingType", "Transfer"), str):
            # a value the route API does not take is stored and dead-lettered with its
            # reason by the processing, so it is visible instead of lost with a 400
            raise PayloadError(f"{here}.payload.routingType must be a string")
        params = payload.get("routingParameters") or {}
        if not isinstance(params, dict):
            raise PayloadError(f"{here}.payload.routingParameters must be an object")
        raw = params.get("channelData")
        if isinstance(raw, str) and raw:
            try:
                json.loads(raw)
            except ValueError:
                raise PayloadError(f"{here}.payload.routingParameters.channelData must be a "
                                   "JSON string") from None
    else:
        _require(data, "conversationIdentifier", here)
        entry = _require(data, "payload", here, dict)
        entry_type = entry.get("entryType")
        body = entry.get("entryPayload")
        if entry_type in ("RoutingWorkResult", "RoutingResult") and not isinstance(body, dict):
            raise PayloadError(f"{here}.payload.entryPayload must be an object")
        if entry_type == "RoutingWorkResult" and body.get("workType") not in WORK_TYPES:
            raise PayloadError(f"{here}.payload.entryPayload.workType must be one of "
                               f"{', '.join(WORK_TYPES)}")
        if entry_type == "RoutingResult" and body.get("failureType") not in FAILURE_TYPES:
            raise PayloadError(f"{here}.payload.entryPayload.failureType must be one of "
                               f"{', '.join(FAILURE_TYPES)}")
    key = event.get("eventId")
    if key is not None and not isinstance(key, str | int):
        raise PayloadError(f"{where}.eventId must be a string")
    if key in (None, ""):
        canonical = json.dumps({"t": kind, "d": data}, sort_keys=True, separators=(",", ":"))
        key = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    return str(kind), str(key), data


def parse_byoc(body: bytes) -> list[tuple[str, str, dict[str, Any]]]:
    """``[(eventType, event key, data)]``; raises PayloadError naming the bad field."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("Invalid JSON body") from None
    if isinstance(doc, dict) and "events" in doc:
        events, prefix = doc["events"], "events"
        if not isinstance(events, list) or not events:
            raise PayloadError("events must be a non-empty list")
        if len(events) > MAX_EVENTS:
            raise PayloadError(f"events: at most {MAX_EVENTS} per request")
        return [_check(e, f"{prefix}[{i}]") for i, e in enumerate(events)]
    return [_check(doc, "body")]


# Outbound Messages -------------------------------------------------------------------------
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_outbound(body: bytes) -> tuple[str, list[dict[str, Any]]]:
    """(OrganizationId, [{"id": notification id, "sobject": "Lead", "record": {...}}])."""
    message = parse_outbound_message(body)
    return message.org_id, message.notifications


@dataclass(frozen=True)
class OutboundMessage:
    org_id: str
    notifications: list[dict[str, Any]]
    #: present when the definition has "Send Session ID" checked (nil otherwise)
    session_id: str | None = field(default=None, repr=False)
    enterprise_url: str | None = None


def parse_outbound_message(body: bytes) -> OutboundMessage:
    """The whole message: :func:`parse_outbound`'s parts plus ``SessionId`` and
    ``EnterpriseUrl``, what a check of the session with Salesforce needs."""
    # defusedxml refuses a DTD where the parser meets it, after decoding: a byte search
    # for "<!DOCTYPE" misses one written in UTF-16 (or any other declared encoding)
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True,
                          forbid_external=True)
    except DefusedXmlException:
        raise PayloadError("DOCTYPE and entity declarations are not accepted") from None
    except ParseError as exc:
        raise PayloadError(f"body is not well-formed XML: {exc}") from None
    notifications = root.find(f".//{{{OUTBOUND}}}notifications")
    if notifications is None:
        raise PayloadError("no notifications element in the SOAP body")
    org = (notifications.findtext(f"{{{OUTBOUND}}}OrganizationId") or "").strip()
    if not org:
        raise PayloadError("OrganizationId is required")
    items = []
    for index, note in enumerate(notifications.findall(f"{{{OUTBOUND}}}Notification")):
        note_id = (note.findtext(f"{{{OUTBOUND}}}Id") or "").strip()
        sobject = note.find(f"{{{OUTBOUND}}}sObject")
        if not note_id or sobject is None:
            raise PayloadError(f"Notification[{index}] needs an Id and an sObject")
        sobject_type = _local(sobject.get(f"{{{XSI}}}type", "")).split(":")[-1]
        record: dict[str, Any] = {}
        for child in sobject:
            nil = child.get(f"{{{XSI}}}nil") == "true"
            record[_local(child.tag)] = None if nil else (child.text or "")
        if not record.get("Id"):
            raise PayloadError(f"Notification[{index}].sObject needs an Id")
        items.append({"id": note_id, "sobject": sobject_type, "record": record})
    if not items:
        raise PayloadError("no Notification in the message")
    session = notifications.find(f"{{{OUTBOUND}}}SessionId")
    session_id = None
    if session is not None and session.get(f"{{{XSI}}}nil") != "true":
        session_id = (session.text or "").strip() or None
    enterprise_url = (notifications.findtext(f"{{{OUTBOUND}}}EnterpriseUrl") or "").strip()
    return OutboundMessage(org, items, session_id, enterprise_url or None)


def ack() -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP}">'
            f'<soapenv:Body><notificationsResponse xmlns="{OUTBOUND}"><Ack>true</Ack>'
            "</notificationsResponse></soapenv:Body></soapenv:Envelope>").encode()


def fault(message: str, code: str = "soapenv:Client") -> bytes:
    text = (message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP}">'
            f"<soapenv:Body><soapenv:Fault><faultcode>{code}</faultcode>"
            f"<faultstring>{text}</faultstring></soapenv:Fault></soapenv:Body>"
            "</soapenv:Envelope>").encode()
