"""Preview a mapping on a sample payload: the mapped record and which published routers'
triggers it would match. Reads only; nothing is routed, stored or written to a CRM, so an
admin can try a draft before saving it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connector.core.codec import trigger_from_dict
from connector.core.triggers import InvalidCondition, evaluate
from connector.store import mapping_repository as repo
from connector.store.db import Database

from . import versions
from .engine import MappingError, ObjectMapping, parse_mapping_text


@dataclass(frozen=True)
class RouterMatch:
    router_id: str
    account_id: str
    name: str
    matched: bool
    matched_groups: tuple[int, ...] = ()
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"router_id": self.router_id, "account_id": self.account_id,
                "name": self.name, "matched": self.matched,
                "matched_groups": list(self.matched_groups), "error": self.error}


@dataclass(frozen=True)
class PreviewResult:
    source: str
    object: str
    object_type: str
    version: int | None
    properties: tuple[str, ...]
    record: dict[str, Any] | None
    owner: Any
    errors: list[str] = field(default_factory=list)
    routers: list[RouterMatch] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "object": self.object,
                "object_type": self.object_type, "version": self.version,
                "properties": list(self.properties), "record": self.record,
                "owner": self.owner, "errors": self.errors,
                "routers": [r.as_dict() for r in self.routers]}


def record_properties(mapping: ObjectMapping, payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The record's properties in ``payload``: the bare properties, a CRM record that
    wraps them (``{"id": ..., "properties": {...}}`` as HubSpot returns it), or a stored
    inbox event that carries its record (a Salesforce Outbound Message ``{"sobject",
    "record"}``, a BYOC ``{"eventType": "ConversationStarted", "data"}``). A HubSpot
    webhook event carries no properties at all: that raises ``MappingError`` saying so,
    instead of mapping an empty record."""
    if any(p in payload for p in mapping.properties):
        return payload
    for key in ("properties", "record", "data"):
        inner = payload.get(key)
        if isinstance(inner, Mapping) and (key != "data" or "eventType" in payload):
            return inner
    if {"portal_id", "object_id", "action"} <= payload.keys():
        raise MappingError([
            f"the payload is a HubSpot webhook event ({payload.get('subscription_type')} "
            f"of {payload.get('object_type')} {payload.get('object_id')}), which carries "
            "no record properties; paste the record's properties, or pick the event in "
            "the admin console, which reads the record from HubSpot"])
    return payload


def preview(db: Database, source: str, obj: str, payload: Mapping[str, Any], *,
            yaml_text: str | None = None, account_id: str | None = None,
            root: str | Path | None = None) -> PreviewResult:
    """Map ``payload`` with the current version (``account_id``'s own, or the defaults
    when None) or the draft ``yaml_text``, and evaluate every published router of the
    mapping's object type (of ``account_id``, or of all accounts). A draft that does not
    validate raises ``MappingError``; a record the mapping rejects comes back with
    ``errors`` and no router evaluated."""
    if yaml_text is None:
        mapping = versions.current_mapping(db, source, obj, root=root, account_id=account_id)
        version: int | None = mapping.version
    else:
        versions.validate(db, source, obj, yaml_text, root=root)
        mapping = parse_mapping_text(yaml_text, f"{source}/{obj} (draft)",
                                     expected=(source, obj), version=None)
        version = None
    properties = record_properties(mapping, payload)  # may raise MappingError
    owner = properties.get(mapping.owner_property)
    try:
        record = mapping.apply(properties)
    except MappingError as exc:
        return PreviewResult(source, obj, mapping.object_type, version, mapping.properties,
                             None, owner, exc.errors)
    with db.session() as session:
        rows = [(r.id, r.account_id, r.name, r.settings)
                for r in repo.published_routers(session, mapping.object_type, account_id)]
    matches = [_match(router_id, acct, name, settings, record)
               for router_id, acct, name, settings in rows]
    return PreviewResult(source, obj, mapping.object_type, version, mapping.properties,
                         record, owner, [], matches)


def _match(router_id: str, account_id: str, name: str, settings: dict[str, Any] | None,
           record: Mapping[str, Any]) -> RouterMatch:
    if not settings:
        return RouterMatch(router_id, account_id, name, False,
                           error="The router has no settings")
    try:
        result = evaluate(trigger_from_dict(settings.get("trigger")), record)
    except (InvalidCondition, KeyError, TypeError) as exc:
        return RouterMatch(router_id, account_id, name, False, error=f"invalid trigger: {exc}")
    return RouterMatch(router_id, account_id, name, result.matched, result.matched_groups)
