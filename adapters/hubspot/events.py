"""Parse HubSpot webhook batches into typed events.

HubSpot POSTs a JSON array of up to 100 events. Legacy subscriptions name the type in
``subscriptionType`` (``contact.propertyChange``); newer payloads may use ``eventType``, and
generic subscriptions use ``object.<action>`` with ``objectTypeId`` (``0-1`` contact,
``0-2`` company, ``0-3`` deal, ``0-5`` ticket). ``eventId`` alone is not unique, so the
dedupe key is (portalId, subscriptionType, objectId, eventId, occurredAt).

Types with an unknown object prefix (``conversation.*``, custom objects ``2-...``) are kept
with ``object_type=None`` rather than failing the whole batch: one unrelated event must not
make HubSpot drop the other 99. Structural problems (not an array, missing ids, more than
100 events) raise :class:`InvalidWebhookBody`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_EVENTS = 100
OWNER_PROPERTY = "hubspot_owner_id"

OBJECT_TYPE_IDS = {"0-1": "contact", "0-2": "company", "0-3": "deal", "0-5": "ticket"}
OBJECT_PREFIXES = frozenset(OBJECT_TYPE_IDS.values())
ACTIONS = frozenset({
    "creation", "propertyChange", "deletion", "restore", "merge", "associationChange",
    "privacyDeletion",
})
INTEGRATION_SOURCES = frozenset({"INTEGRATION", "API"})
_TYPE_RE = re.compile(r"^[A-Za-z_][\w-]*\.[A-Za-z]\w*$")


class InvalidWebhookBody(ValueError):
    """The body is not a HubSpot webhook batch; the message names the first problem."""


@dataclass(frozen=True)
class HubSpotEvent:
    """One webhook event. ``object_type`` is contact/company/deal/ticket or None."""

    subscription_type: str
    portal_id: int
    event_id: int
    occurred_at: int
    object_id: int | None
    object_type: str | None
    action: str
    app_id: int | None = None
    subscription_id: int | None = None
    attempt_number: int = 0
    object_type_id: str | None = None
    property_name: str | None = None
    property_value: str | None = None
    change_source: str | None = None
    source_id: str | None = None
    change_flag: str | None = None
    merged_object_ids: tuple[int, ...] = ()
    primary_object_id: int | None = None
    new_object_id: int | None = None
    from_object_id: int | None = None
    to_object_id: int | None = None
    association_type: str | None = None
    association_removed: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def dedupe_key(self) -> tuple[int, str, int | None, int, int]:
        """(portalId, subscriptionType, objectId, eventId, occurredAt): unique per delivery."""
        return (self.portal_id, self.subscription_type, self.object_id, self.event_id,
                self.occurred_at)

    def dedupe_key_str(self) -> str:
        """The dedupe key as one string, for a unique database column."""
        return ":".join("" if part is None else str(part) for part in self.dedupe_key())


def _int(raw: dict[str, Any], key: str, where: str, *, required: bool) -> int | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise InvalidWebhookBody(f"{where}: missing {key}")
        return None
    if isinstance(value, bool):
        raise InvalidWebhookBody(f"{where}: {key} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise InvalidWebhookBody(f"{where}: {key} must be an integer")


def _str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return None if value is None else str(value)


def parse_event(raw: Any, index: int = 0) -> HubSpotEvent:
    """Parse one event object; ``index`` only makes error messages point at it."""
    where = f"event {index}"
    if not isinstance(raw, dict):
        raise InvalidWebhookBody(f"{where}: not a JSON object")
    sub_type = raw.get("subscriptionType") or raw.get("eventType")
    if not isinstance(sub_type, str) or not sub_type:
        raise InvalidWebhookBody(f"{where}: missing subscriptionType")
    if not _TYPE_RE.match(sub_type):
        raise InvalidWebhookBody(f"{where}: malformed subscriptionType {sub_type!r}")
    prefix, action = sub_type.split(".", 1)

    object_type_id = _str(raw, "objectTypeId")
    if prefix == "object":
        if not object_type_id:
            raise InvalidWebhookBody(f"{where}: {sub_type} without objectTypeId")
        object_type = OBJECT_TYPE_IDS.get(object_type_id)
    else:
        object_type = prefix if prefix in OBJECT_PREFIXES else None

    is_association = action == "associationChange"
    object_id = _int(raw, "objectId", where, required=not is_association)
    from_id = _int(raw, "fromObjectId", where, required=False)
    if is_association and object_id is None:
        if from_id is None:
            raise InvalidWebhookBody(f"{where}: missing objectId or fromObjectId")
        object_id = from_id
    if action == "propertyChange" and not raw.get("propertyName"):
        raise InvalidWebhookBody(f"{where}: propertyChange without propertyName")

    merged = raw.get("mergedObjectIds") or ()
    if not isinstance(merged, list | tuple):
        raise InvalidWebhookBody(f"{where}: mergedObjectIds must be an array")
    try:
        merged_ids = tuple(int(m) for m in merged)
    except (TypeError, ValueError):
        raise InvalidWebhookBody(f"{where}: mergedObjectIds must hold integers") from None
    removed = raw.get("associationRemoved")

    return HubSpotEvent(
        subscription_type=sub_type,
        portal_id=_int(raw, "portalId", where, required=True),  # type: ignore[arg-type]
        event_id=_int(raw, "eventId", where, required=True),  # type: ignore[arg-type]
        occurred_at=_int(raw, "occurredAt", where, required=True),  # type: ignore[arg-type]
        object_id=object_id,
        object_type=object_type,
        action=action,
        app_id=_int(raw, "appId", where, required=False),
        subscription_id=_int(raw, "subscriptionId", where, required=False),
        attempt_number=_int(raw, "attemptNumber", where, required=False) or 0,
        object_type_id=object_type_id,
        property_name=_str(raw, "propertyName"),
        property_value=_str(raw, "propertyValue"),
        change_source=_str(raw, "changeSource"),
        source_id=_str(raw, "sourceId"),
        change_flag=_str(raw, "changeFlag"),
        merged_object_ids=merged_ids,
        primary_object_id=_int(raw, "primaryObjectId", where, required=False),
        new_object_id=_int(raw, "newObjectId", where, required=False),
        from_object_id=from_id,
        to_object_id=_int(raw, "toObjectId", where, required=False),
        association_type=_str(raw, "associationType"),
        association_removed=None if removed is None else bool(removed),
        raw=dict(raw),
    )


def parse_batch(body: bytes | str | list[Any]) -> list[HubSpotEvent]:
    """Parse a webhook body (raw bytes/str or already-decoded list) into events."""
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidWebhookBody(f"body is not valid JSON: {exc}") from None
    else:
        data = body
    if not isinstance(data, list):
        raise InvalidWebhookBody("body must be a JSON array of events")
    if len(data) > MAX_EVENTS:
        raise InvalidWebhookBody(f"batch has {len(data)} events; HubSpot sends at most 100")
    return [parse_event(item, i) for i, item in enumerate(data)]


def _normalise_source_id(source_id: str) -> str:
    return source_id.rsplit(":", 1)[-1].strip().lower()


def is_own_owner_change(
    event: HubSpotEvent, app_id: int | str | None, *, extra_source_ids: Iterable[str] = ()
) -> bool:
    """True when ``event`` is an owner change written by this connector itself.

    The rule: a ``propertyChange`` (legacy or ``object.``) of ``hubspot_owner_id`` whose
    ``changeSource`` is ``INTEGRATION`` or ``API`` and whose ``sourceId`` names our app:
    it equals our app id (HubSpot sends the app id, sometimes as ``"app:<id>"``), or one
    of ``extra_source_ids`` (a private app's id or integration name). Owner changes made in
    the UI, by workflows or by other integrations are never treated as ours. The processing
    code should also compare ``property_value`` with the owner it last wrote, which catches
    our writes even when HubSpot omits ``sourceId``.
    """
    if event.action != "propertyChange" or event.property_name != OWNER_PROPERTY:
        return False
    if (event.change_source or "").upper() not in INTEGRATION_SOURCES or not event.source_id:
        return False
    ours = {_normalise_source_id(str(s)) for s in extra_source_ids}
    if app_id is not None:
        ours.add(str(app_id).strip().lower())
    return _normalise_source_id(event.source_id) in ours
