"""Turn a signed HubSpot webhook request into inbox rows (plain dicts), without any call.

The web layer hands us the method, URI parts, raw body and headers; we verify the
signature, parse the batch and return one normalised record per event: the dedupe key
(portalId, subscriptionType, objectId, eventId, occurredAt) and a JSON payload that the
processing code reads without needing this adapter. Own owner changes are flagged here
(``own_change``) from ``changeSource``/``sourceId``; processing also compares the value
with the owner it last wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.hubspot.events import (
    InvalidWebhookBody,
    is_own_owner_change,
    parse_batch,
)
from adapters.hubspot.signatures import DEFAULT_VERSIONS, public_uri, verify_request

#: signature versions of workflow action requests (X-HubSpot-Signature v2, v3 when sent)
WORKFLOW_ACTION_VERSIONS = ("v2", "v3")

__all__ = ["InboundEvent", "InvalidWebhookBody", "WebhookReceiver"]


@dataclass(frozen=True)
class InboundEvent:
    portal_id: str
    event_key: str
    payload: dict[str, Any]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


class WebhookReceiver:
    """Verifies and parses HubSpot webhook requests for one app."""

    def __init__(self, client_secret: str, *, public_url: str | None = None,
                 app_id: str | int | None = None, extra_source_ids: Iterable[str] = (),
                 versions: Iterable[str] = DEFAULT_VERSIONS) -> None:
        if not client_secret:
            raise ValueError("HUBSPOT_CLIENT_SECRET is required to receive HubSpot webhooks")
        self._secret = client_secret
        self.public_url = public_url
        self.app_id = app_id
        self.extra_source_ids = tuple(extra_source_ids)
        self.versions = tuple(versions)

    def __repr__(self) -> str:
        return f"WebhookReceiver(public_url={self.public_url!r}, <secret hidden>)"

    def uri(self, request_base_url: str, path: str, query_string: str | bytes) -> str:
        """The URI HubSpot signed: the configured public URL when behind a proxy."""
        return public_uri(self.public_url or request_base_url, path, query_string)

    def verify(self, method: str, uri: str, body: bytes, headers: Mapping[str, str]) -> str:
        """Raise ``SignatureInvalid`` unless the request is signed with our secret."""
        return verify_request(client_secret=self._secret, method=method, uri=uri, body=body,
                              headers=headers, versions=self.versions)

    def verify_action(self, method: str, uri: str, body: bytes,
                      headers: Mapping[str, str]) -> str:
        """Verify a custom workflow action request: HubSpot signs those v2 (and v3 when
        it sends it), so v2 is accepted here, and only here."""
        return verify_request(client_secret=self._secret, method=method, uri=uri, body=body,
                              headers=headers, versions=WORKFLOW_ACTION_VERSIONS)

    def parse(self, body: bytes) -> list[InboundEvent]:
        """Raise ``InvalidWebhookBody`` (a ValueError naming the problem) or return events."""
        out = []
        for event in parse_batch(body):
            survivor = event.new_object_id or event.primary_object_id
            payload = {
                "portal_id": str(event.portal_id),
                "subscription_type": event.subscription_type,
                "object_type": event.object_type,
                "object_id": _str(event.object_id),
                "action": event.action,
                "event_id": event.event_id,
                "occurred_at": event.occurred_at,
                "property_name": event.property_name,
                "property_value": event.property_value,
                "change_source": event.change_source,
                "source_id": event.source_id,
                "merged_object_ids": [str(i) for i in event.merged_object_ids],
                "survivor_id": _str(survivor),
                "own_change": is_own_owner_change(event, self.app_id,
                                                  extra_source_ids=self.extra_source_ids),
                "event": event.raw,
            }
            out.append(InboundEvent(str(event.portal_id), event.dedupe_key_str(), payload))
        return out
