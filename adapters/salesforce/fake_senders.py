"""Deliver Salesforce-side events to the connector, for tests, the demo and benchmarks.

* :class:`ByocEventSender` posts BYOC events in the shapes of Salesforce's outbound custom
  event payload (``RoutingRequested``, ``Interaction`` entries ``RoutingWorkResult`` and
  ``RoutingResult``) plus the partner channel's ``ConversationStarted``, signed with
  ``X-Connector-Signature``.
* :class:`OutboundMessageSender` posts SOAP Outbound Messages as Salesforce workflow
  sends them, to the definition's endpoint URL (which carries the connector's secret),
  and reports whether the answer was an ``<Ack>true</Ack>``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

import requests

from connector.core.webhook_signature import HEADER, sign


def _entry(entry_type: str, payload: dict[str, Any], sender: str) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {"identifier": str(uuid.uuid4()), "entryType": entry_type,
            "entryPayload": {"id": str(uuid.uuid4()), "entryType": entry_type, **payload},
            "sender": {"appType": "conversation", "subject": sender, "role": "System"},
            "clientTimestamp": now, "transcriptedTimestamp": now, "clientDuration": 0}


class ByocEventSender:
    def __init__(self, url: str, secret: str, *, channel_address: str = "Partner1_Channel",
                 timeout: float = 10.0, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self._secret = secret
        self.channel_address = channel_address
        self.timeout = timeout
        self._clock = clock
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"ByocEventSender(url={self.url!r})"

    def _session(self) -> requests.Session:
        if getattr(self._local, "session", None) is None:
            self._local.session = requests.Session()
        return self._local.session

    def post(self, body: bytes, *, signature: str | None = None) -> requests.Response:
        header = signature if signature is not None else sign(self._secret, body,
                                                              int(self._clock()))
        return self._session().post(self.url, data=body, timeout=self.timeout,
                                    headers={"Content-Type": "application/json",
                                             HEADER: header})

    def send(self, events: Sequence[Mapping[str, Any]]) -> requests.Response:
        body = json.dumps({"events": list(events)}, separators=(",", ":")).encode()
        return self.post(body)

    # event builders ------------------------------------------------------------------------
    def conversation_started(self, identifier: str, *, end_user: str = "end-user-1",
                             attributes: Mapping[str, Any] | None = None,
                             event_id: str | None = None) -> dict[str, Any]:
        return {"eventId": event_id or str(uuid.uuid4()), "eventType": "ConversationStarted",
                "data": {"conversationIdentifier": identifier,
                         "channelAddressIdentifier": self.channel_address,
                         "endUserClientIdentifier": end_user,
                         "attributes": dict(attributes or {})}}

    def routing_requested(self, identifier: str, *, routing_correlation_id: str | None = None,
                          queue_id: str | None = None, user_id: str | None = None,
                          flow_id: str | None = None, work_record_id: str | None = None,
                          routing_type: str = "Transfer",
                          event_id: str | None = None) -> dict[str, Any]:
        context = {"conversationIdentifier": identifier, "routingType": routing_type,
                   "routingCorrelationId": routing_correlation_id or str(uuid.uuid4())}
        params: dict[str, Any] = {"channelData": json.dumps(context),
                                  "isTransfer": routing_type == "Transfer"}
        for key, value in (("queueId", queue_id), ("userId", user_id), ("flowId", flow_id)):
            if value:
                params[key] = value
        return {"eventId": event_id or str(uuid.uuid4()), "eventType": "RoutingRequested",
                "data": {"channelAddressIdentifier": self.channel_address,
                         "recipient": {"appType": "custom", "subject": self.channel_address,
                                       "role": "Router"},
                         "payload": {"conversationIdentifier": identifier,
                                     "routingType": routing_type, "routingParameters": params,
                                     "workRecordId": work_record_id or "0Mw000000000000"}}}

    def _interaction(self, identifier: str, entry: dict[str, Any],
                     event_id: str | None) -> dict[str, Any]:
        return {"eventId": event_id or str(uuid.uuid4()), "eventType": "Interaction",
                "data": {"conversationIdentifier": identifier,
                         "channelAddressIdentifier": self.channel_address,
                         "recipient": {"appType": "custom", "subject": self.channel_address,
                                       "role": "Router"},
                         "payload": entry}}

    def work_result(self, identifier: str, work_type: str, *,
                    work_id: str = "0Bz000000000000", work_target_id: str = "0Mw000000000000",
                    agent_id: str | None = None, errors: Sequence[str] = (),
                    event_id: str | None = None
                    ) -> dict[str, Any]:
        payload = {"workType": work_type, "workId": work_id, "workTargetId": work_target_id,
                   "conversationId": identifier, "errorMessages": list(errors),
                   "routingType": "Initial"}
        if agent_id:
            payload["agentSessionId"] = agent_id
        return self._interaction(identifier, _entry("RoutingWorkResult", payload, "omni"),
                                 event_id)

    def routing_result(self, identifier: str, failure_type: str = "None", *,
                       reason: str | None = None, errors: Sequence[str] = (),
                       psr_id: str | None = None, event_id: str | None = None
                       ) -> dict[str, Any]:
        payload: dict[str, Any] = {"failureType": failure_type, "errorMessages": list(errors),
                                   "routingType": "Initial", "isExternallyRouted": True}
        if reason:
            payload["failureReason"] = reason
        if psr_id:
            payload["pendingServiceRoutingId"] = psr_id
        return self._interaction(identifier, _entry("RoutingResult", payload, "omni"),
                                 event_id)


def outbound_endpoint(base_url: str, secret: str) -> str:
    """The endpoint URL an Outbound Message definition names: the connector's route with
    one of its ``SALESFORCE_OUTBOUND_SECRETS`` as the last path segment (Salesforce sends
    no signature; the URL is the credential it can carry)."""
    return f"{base_url.rstrip('/')}/webhooks/salesforce/outbound/{secret}"


class OutboundMessageSender:
    """``send(sobject, records)`` -> (HTTP status, acknowledged).

    ``url`` is the definition's endpoint URL, secret included (:func:`outbound_endpoint`):
    Salesforce posts every message of the definition to exactly that URL. With "Send
    Session ID" checked in the definition, the message carries ``session_id`` (a session
    of the definition's user); ``enterprise_url`` is the org's Enterprise SOAP endpoint."""

    def __init__(self, url: str, org_id: str, *, timeout: float = 10.0,
                 session_id: str | None = None,
                 enterprise_url: str = "https://example.my.salesforce.com/services/Soap/c/"
                                       "61.0") -> None:
        self.url = url
        self.org_id = org_id
        self.timeout = timeout
        self.session_id = session_id
        self.enterprise_url = enterprise_url
        self._session = requests.Session()

    def envelope(self, sobject: str, records: Sequence[Mapping[str, Any]],
                 notification_ids: Sequence[str] | None = None) -> bytes:
        notes = []
        for index, record in enumerate(records):
            note_id = notification_ids[index] if notification_ids else \
                f"04l{uuid.uuid4().hex[:12]}"
            fields = "".join(
                f'<sf:{k} xsi:nil="true"/>' if v is None else f"<sf:{k}>{escape(str(v))}</sf:{k}>"
                for k, v in record.items())
            notes.append(f"<Notification><Id>{note_id}</Id>"
                         f'<sObject xsi:type="sf:{sobject}" '
                         f'xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{fields}</sObject>'
                         "</Notification>")
        return ('<?xml version="1.0" encoding="UTF-8"?>'
                '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
                '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
                f"<OrganizationId>{self.org_id}</OrganizationId>"
                "<ActionId>04k000000000001</ActionId>"
                + ('<SessionId xsi:nil="true"/>' if self.session_id is None else
                   f"<SessionId>{escape(self.session_id)}</SessionId>")
                + f"<EnterpriseUrl>{escape(self.enterprise_url)}</EnterpriseUrl>"
                "<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/61.0</PartnerUrl>"
                + "".join(notes) + "</notifications></soapenv:Body></soapenv:Envelope>"
                ).encode()

    def post(self, body: bytes) -> tuple[int, bool]:
        resp = self._session.post(self.url, data=body, timeout=self.timeout,
                                  headers={"Content-Type": "text/xml; charset=utf-8",
                                           "SOAPAction": '""'})
        return resp.status_code, b"<Ack>true</Ack>" in resp.content

    def send(self, sobject: str, records: Sequence[Mapping[str, Any]],
             notification_ids: Sequence[str] | None = None) -> tuple[int, bool]:
        return self.post(self.envelope(sobject, records, notification_ids))
