"""The CRM record behind a stored inbox event, so an admin can preview a mapping on a
real event.

Stored events come in three shapes, none of which is a bare record:

* HubSpot webhook events (``{"portal_id", "object_type", "object_id", "action", ...}``)
  name a record but carry none of its properties. The mirrored object only keeps the
  mapped fields, not the raw CRM properties, so the record is read from HubSpot through
  the portal's configured client, with the properties the mapping being previewed needs.
  This is an admin action, never the webhook path.
* Salesforce Outbound Messages (``{"eventType": "OutboundMessage", "sobject", "record"}``)
  carry the record's fields.
* BYOC events (``{"eventType": "ConversationStarted", "data"}``) carry the conversation.

Call these outside any database session: a HubSpot read is a network call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connector.core.errors import CrmError
from connector.service.salesforce_records import OBJECTS as SALESFORCE_OBJECTS

HUBSPOT_KIND = "hubspot"
SALESFORCE_KIND = "salesforce"


class RecordUnavailable(Exception):
    """The event's record cannot be previewed; the message says why, for an admin."""


def event_object(source: str, kind: str, payload: Mapping[str, Any]) -> str | None:
    """The mapping object a stored event is about (``contact``, ``lead``,
    ``conversation`` ...), or None for events that carry or name no record (owner-sync
    retries, BYOC transfers and work results)."""
    if not isinstance(payload, Mapping):
        return None
    if source == "hubspot" and kind == HUBSPOT_KIND:
        if payload.get("object_id") in (None, ""):
            return None
        return payload.get("object_type") or None
    if source == "salesforce" and kind == SALESFORCE_KIND:
        event_type = payload.get("eventType")
        if event_type == "OutboundMessage":
            return SALESFORCE_OBJECTS.get(str(payload.get("sobject") or ""))
        if event_type == "ConversationStarted":
            return "conversation"
    return None


def describe(source: str, payload: Mapping[str, Any]) -> str:
    """A short label for an event list: what happened to which record."""
    if source == "hubspot":
        return f"{payload.get('subscription_type') or payload.get('action')} " \
               f"{payload.get('object_id')}"
    if payload.get("eventType") == "OutboundMessage":
        record = payload.get("record") or {}
        return f"Outbound Message {payload.get('sobject')} {record.get('Id', '')}".strip()
    data = payload.get("data") or {}
    return f"{payload.get('eventType')} {data.get('conversationIdentifier', '')}".strip()


def record_for_event(container: Any, source: str, payload: Mapping[str, Any],
                     properties: Sequence[str]) -> dict[str, Any]:
    """The record properties of a stored event (see the module docstring). Raises
    ``RecordUnavailable`` with a message an admin can act on."""
    if source == "hubspot":
        return _hubspot_record(container, payload, properties)
    if payload.get("eventType") == "OutboundMessage":
        record = payload.get("record")
    else:
        record = payload.get("data")
    if not isinstance(record, Mapping):
        raise RecordUnavailable("This event carries no record to preview; paste the "
                                "record's properties instead.")
    return dict(record)


def _hubspot_record(container: Any, payload: Mapping[str, Any],
                    properties: Sequence[str]) -> dict[str, Any]:
    object_type, object_id = payload.get("object_type"), str(payload.get("object_id"))
    portal = str(payload.get("portal_id"))
    what = f"{object_type} {object_id}"
    services = container.extras.get("hubspot")
    if services is None or getattr(services, "portals", None) is None:
        raise RecordUnavailable(
            f"HubSpot webhook events carry no record properties, and HubSpot is not "
            f"configured on this connector, so {what} cannot be read. Paste the record's "
            "properties instead.")
    try:
        client = services.portals.client_for(portal, interactive=True)
        found = client.read_records(object_type, [object_id], list(properties))
    except CrmError as exc:
        raise RecordUnavailable(
            f"Could not read {what} from HubSpot portal {portal}: {exc}. Paste the "
            "record's properties instead.") from None
    record = found.get(object_id)
    if record is None:
        raise RecordUnavailable(
            f"HubSpot portal {portal} has no {what} any more (deleted or merged?). Pick "
            "another event or paste the record's properties.")
    return record
