"""Process stored HubSpot webhook events: read records, mirror them, route, write owners.

``handle_events(container, events)`` is a plain function so any executor (threads,
Celery) can run it. Per portal and object type it:

1. ignores the ``hubspot_owner_id`` changes we caused ourselves (flagged at ingest from
   ``changeSource``/``sourceId``, or equal to the owner we last wrote): no loops;
2. applies deletions (archive; a privacy deletion also drops the mirrored fields),
   restores (un-archive) and merges (the surviving record takes over the mirror of a
   merged one);
3. batch-reads the records still needed (≤100 ids per call, only the mapping's
   properties), maps and upserts them, keyed by (account, "hubspot", type, HubSpot id),
   with the current HubSpot owner mapped to a rep so the overwrite modes apply;
4. dispatches each published router of that type whose start setting (``start_on``:
   creation, change of ``watch_properties``) allows the event and whose trigger matches;
5. writes every new owner in one batch update per 100 records; failed writes keep the
   assignment and go to the retry schedule (``hubspot_owner_sync``).

Processing is idempotent per inbox event: every decision stores the event that produced
it, so an event processed again after a crash (routing committed, owner not written or
event not completed) routes none of its records a second time and only finishes the
owner writes still pending. A new event for an owned record meets the router's
overwrite rule.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector.core.codec import trigger_from_dict
from connector.core.errors import CrmError
from connector.core.ports import OwnerWrite
from connector.core.triggers import evaluate
from connector.jobs import inbox
from connector.mapping import MappingError
from connector.service import sla
from connector.service.dispatch_many import dispatch_many
from connector.service.hubspot_owner_sync import (
    FailedSync,
    hubspot_owner_id,
    schedule_retries,
    write_owners,
)
from connector.store import hubspot_repository as hs_repo
from connector.store import routing_depth_repo as depth_repo
from connector.store import sources_repo
from connector.store.db import Database
from connector.store.models import RouterRow

log = logging.getLogger(__name__)

KIND_EVENTS = "hubspot"
OWNER_PROPERTY = "hubspot_owner_id"
FOREIGN_OWNER_PREFIX = "hubspot-owner:"
_READ_ACTIONS = {"creation", "propertyChange", "restore", "merge"}


@dataclass
class _Record:
    """What the events of one batch ask of one HubSpot record."""

    creation: bool = False
    changed: set[str] | None = None

    def wants(self, router: RouterRow) -> bool:
        settings = router.settings or {}
        start_on = settings.get("start_on") or ["creation"]
        if self.creation and "creation" in start_on:
            return True
        watched = set(settings.get("watch_properties") or [])
        return "change" in start_on and bool(self.changed and self.changed & watched)


def store_inbound(container: Any, parsed: Sequence[Any]) -> int:
    """Put parsed HubSpot events (``adapters.hubspot.inbound.InboundEvent``) into the inbox
    in one transaction, keyed (portalId, subscriptionType, objectId, eventId, occurredAt):
    the one way in for webhook deliveries and journal entries alike, so an event that
    arrives both ways is stored (and routed) once. Returns how many were new."""
    stored = inbox.store_events(container.db, [
        inbox.NewEvent("hubspot", e.portal_id, e.event_key, KIND_EVENTS, e.payload)
        for e in parsed])
    if container.executor is not None:
        container.executor.notify()
    return stored


def handle_events(container: Any, events: Sequence[inbox.InboxEvent]) -> dict[str, str | None]:
    """Inbox handler for kind ``hubspot``; {event id: error or None}."""
    results: dict[str, str | None] = {}
    groups: dict[tuple[str, str | None], list[inbox.InboxEvent]] = defaultdict(list)
    for event in events:
        problem = _malformed(event.payload)
        if problem is not None:
            results[event.id] = inbox.Permanent(f"malformed stored event: {problem}")
            continue
        groups[(str(event.payload.get("portal_id")), event.payload.get("object_type"))] \
            .append(event)
    for (portal, object_type), group in groups.items():
        try:
            results.update(_process(container, portal, object_type, group))
        except (CrmError, MappingError) as exc:
            log.warning("HubSpot portal %s %s batch failed: %s", portal, object_type, exc)
            permanent = isinstance(exc, MappingError) or not exc.retryable
            error = inbox.Permanent(str(exc)) if permanent else str(exc)
            results.update({e.id: error for e in group})
    return results


def _malformed(payload: Any) -> str | None:
    """What makes a stored payload unusable, or None. Waiting never repairs one."""
    if not isinstance(payload, dict):
        return "the payload is not an object"
    for key in ("portal_id", "object_id", "action"):
        if payload.get(key) in (None, ""):
            return f"'{key}' is missing"
    return None


def _owner_reps(client: Any, reps: Sequence[tuple[str, str, dict[str, Any]]]
                ) -> tuple[dict[str, str], dict[str, tuple[str, dict[str, Any]]]]:
    """HubSpot owner id -> rep id for the account's reps, and each rep's email and ids."""
    owners: dict[str, str] = {}
    for rep_id, email, crm_ids in reps:
        owner_id = hubspot_owner_id(client, email, crm_ids)
        if owner_id:
            owners[owner_id] = rep_id
    return owners, {rep_id: (email, crm_ids) for rep_id, email, crm_ids in reps}


def _process(container: Any, portal: str, object_type: str | None,
             events: Sequence[inbox.InboxEvent]) -> dict[str, str | None]:
    db: Database = container.db
    services = container.extras["hubspot"]
    results: dict[str, str | None] = {e.id: None for e in events}
    ordered = sorted(events, key=lambda e: (e.payload.get("occurred_at") or 0))
    owner_changes = [e.payload["object_id"] for e in ordered
                     if e.payload.get("property_name") == OWNER_PROPERTY]
    with db.read_session() as session:  # everything this batch needs to know first
        account_id = sources_repo.account_for(session, "hubspot", portal)
        if account_id is not None and object_type is not None:
            ours = hs_repo.owner_writes(session, portal, object_type, owner_changes)
            reps = [(r.id, r.email, dict(r.crm_ids or {}))
                    for r in hs_repo.account_reps(session, account_id)]
    if account_id is None:
        error = inbox.Permanent(f"HubSpot portal {portal} is not connected to an account")
        return {e.id: error for e in events}
    if object_type is None:
        return results  # conversations, custom objects: nothing to route
    sla.hubspot_touches(db, account_id, object_type, [e.payload for e in ordered])
    mapping = container.mappings.get("hubspot", object_type, account_id)
    now = datetime.now(UTC)

    records: dict[str, _Record] = defaultdict(_Record)
    events_of: dict[str, list[str]] = defaultdict(list)
    for event in ordered:
        p = event.payload
        action, object_id = p.get("action"), p.get("object_id")
        if action not in _READ_ACTIONS and action not in ("deletion", "privacyDeletion"):
            continue
        if action == "propertyChange" and p.get("property_name") == OWNER_PROPERTY and (
                p.get("own_change") or ours.get(object_id) == p.get("property_value")):
            continue  # our own write coming back
        if action in ("deletion", "privacyDeletion"):
            _archive(db, account_id, object_type, object_id, f"hubspot:{action}", now)
            records.pop(object_id, None)
            continue
        if action == "restore":
            _restore(db, account_id, object_type, object_id, now)
        if action == "merge":
            object_id = p.get("survivor_id") or object_id
            _merge(db, account_id, object_type, object_id, p.get("merged_object_ids") or [],
                   now)
        record = records[object_id]
        if action == "creation":
            record.creation = True
        elif action == "propertyChange":
            record.changed = (record.changed or set()) | {p.get("property_name")}
        events_of[object_id].append(event.id)
    if not records:
        return results

    client = services.portals.client_for(portal)
    properties = list(dict.fromkeys([*mapping.properties, OWNER_PROPERTY]))
    found = client.read_records(object_type, list(records), properties)
    owner_reps, rep_data = _owner_reps(client, reps)

    with db.session() as session:
        earlier = hs_repo.decisions_of_events(session, [e.id for e in events])
        routers = [(r, trigger_from_dict((r.settings or {}).get("trigger")))
                   for r in hs_repo.published_routers(session, account_id, object_type)]
        mirrored, owner_now, refused = mirror_records(
            session, mapping, account_id, object_type, portal, found, owner_reps, now)
        if object_type == "company":  # what leads are matched against
            for record_id, (_, fields) in mirrored.items():
                owner = owner_now.get(record_id)
                depth_repo.upsert_mirrored(
                    session, account_id, "hubspot", record_id, fields,
                    None if not owner or owner.startswith(FOREIGN_OWNER_PREFIX) else owner,
                    now)
    for record_id, problem in refused.items():
        for event_id in events_of[record_id]:
            results[event_id] = inbox.Permanent(f"record {record_id}: {problem}")
    decided = _decided_before(earlier, mirrored)

    writes: list[tuple[str, OwnerWrite]] = []
    failures: list[FailedSync] = []
    unassigned = {r: m for r, m in mirrored.items() if r not in decided.assigned}
    for record_id, (decision_id, rep_id, rep_email) in decided.unwritten.items():
        # routed before a crash, owner not written yet: only the write-back is left,
        # unless a newer assignment has taken the record since
        if owner_now.get(record_id) != rep_id:
            continue
        email, crm_ids = rep_data.get(rep_id, (rep_email, {}))
        _owner_write(client, object_type, record_id, decision_id, email, crm_ids,
                     writes, failures)

    for router_row, trigger in routers:
        batch = [(record_id, row_id) for record_id, (row_id, fields) in unassigned.items()
                 if records[record_id].wants(router_row) and evaluate(trigger, fields).matched
                 and (record_id, router_row.id) not in decided.routed]
        if not batch:
            continue
        outcomes = dispatch_many(db, account_id, router_row.id,
                                 [row_id for _, row_id in batch], now=now,
                                 inbox_event_ids=[events_of[r][0] for r, _ in batch])
        for (record_id, _), result in zip(batch, outcomes, strict=True):
            rep = result.decision.rep
            if not result.decision.assigned or rep is None:
                continue
            del unassigned[record_id]
            email, crm_ids = rep_data.get(rep.id, (rep.email, rep.crm_ids))
            _owner_write(client, object_type, record_id, result.decision_id, email, crm_ids,
                         writes, failures)
    outcome = write_owners(db, client, portal, writes)
    by_decision = {d: w for d, w in writes}
    failures.extend(FailedSync(d, object_type, by_decision[d].record_id, err)
                    for d, err in outcome.items() if err is not None)
    schedule_retries(db, portal, failures)
    return results


def mirror_records(session: Any, mapping: Any, account_id: str, object_type: str, portal: str,
                   found: dict[str, dict[str, Any]], owner_reps: dict[str, str],
                   now: datetime) -> tuple[dict[str, tuple[str, dict[str, Any]]],
                                           dict[str, str | None], dict[str, str]]:
    """Map and upsert the records read from HubSpot, with their current HubSpot owner as
    the mirrored owner (so the routers' overwrite rules apply). Returns {record id: (row
    id, fields)}, {record id: owner rep}, and {record id: mapping error} for the refused."""
    existing = hs_repo.objects_by_source_ids(session, account_id, object_type, found)
    unsynced = hs_repo.unsynced_owners(session, [r.id for r in existing.values()])
    mirrored: dict[str, tuple[str, dict[str, Any]]] = {}
    owner_now: dict[str, str | None] = {}
    refused: dict[str, str] = {}
    for record_id, props in found.items():
        try:
            fields = mapping.apply(props)
        except MappingError as exc:
            refused[record_id] = str(exc)
            continue
        hs_owner = props.get(OWNER_PROPERTY) or None
        owner_rep = owner_reps.get(hs_owner) if hs_owner else None
        if hs_owner and owner_rep is None:
            owner_rep = FOREIGN_OWNER_PREFIX + hs_owner
        if hs_owner is None and record_id in existing:
            # our assignment whose write-back is still being retried stands
            owner_rep = unsynced.get(existing[record_id].id)
        row = hs_repo.upsert_object(session, existing.get(record_id), account_id,
                                    object_type, record_id, fields, owner_rep, now,
                                    portal_id=portal)
        mirrored[record_id] = (row.id, row.fields)
        owner_now[record_id] = row.owner_rep_id
    return mirrored, owner_now, refused


@dataclass
class _Decided:
    """What this batch's events decided before (a crash stopped their processing)."""

    assigned: set[str]  # HubSpot record ids
    routed: set[tuple[str, str]]  # (record id, router id) already run
    unwritten: dict[str, tuple[str, str, str | None]]  # record -> (decision, rep, email)


def _decided_before(earlier: Sequence[Any],
                    mirrored: dict[str, tuple[str, dict[str, Any]]]) -> _Decided:
    record_of = {row_id: record_id for record_id, (row_id, _) in mirrored.items()}
    decided = _Decided(set(), set(), {})
    for row in earlier:
        record_id = record_of.get(row.object_id)
        if record_id is None:
            continue
        decided.routed.add((record_id, row.router_id))
        if row.assigned:
            decided.assigned.add(record_id)
            if row.sync_status == "pending" and row.rep_id:
                decided.unwritten[record_id] = (row.id, row.rep_id, row.rep_email)
    return decided


def _owner_write(client: Any, object_type: str, record_id: str, decision_id: str,
                 email: str | None, crm_ids: dict[str, Any],
                 writes: list[tuple[str, OwnerWrite]], failures: list[FailedSync]) -> None:
    """Queue the owner write of an assignment; a failure to resolve the owner becomes a
    retry, because the assignment exists from here on."""
    try:
        owner_id = hubspot_owner_id(client, email or "", crm_ids)
        error = None if owner_id else f"no HubSpot owner has the email {email}"
    except CrmError as exc:
        owner_id, error = None, str(exc)
    if owner_id is None:
        failures.append(FailedSync(decision_id, object_type, record_id,
                                   error or "no HubSpot owner"))
    else:
        writes.append((decision_id, OwnerWrite(object_type, record_id, owner_id)))


def _archive(db: Database, account_id: str, object_type: str, object_id: str, by: str,
             now: datetime) -> None:
    with db.session() as session:
        row = hs_repo.objects_by_source_ids(session, account_id, object_type,
                                            [object_id]).get(object_id)
        if row is not None and row.archived_at is None:
            row.archived_at, row.archived_by, row.updated_at = now, by, now
        if object_type == "company":
            depth_repo.delete_mirrored(session, account_id, "hubspot", object_id)
        if row is not None and by.endswith("privacyDeletion"):
            row.fields = {}  # GDPR deletion: keep the decision trail, drop personal data


def _restore(db: Database, account_id: str, object_type: str, object_id: str,
             now: datetime) -> None:
    with db.session() as session:
        row = hs_repo.objects_by_source_ids(session, account_id, object_type,
                                            [object_id]).get(object_id)
        if row is not None and row.archived_at is not None:
            row.archived_at = row.archived_by = None
            row.updated_at = now


def _merge(db: Database, account_id: str, object_type: str, survivor_id: str,
           merged_ids: Sequence[str], now: datetime) -> None:
    """The survivor takes over the mirror (owner, decisions) of a merged record if it has
    none of its own; the other merged records are archived."""
    with db.session() as session:
        rows = hs_repo.objects_by_source_ids(session, account_id, object_type,
                                             [survivor_id, *merged_ids])
        survivor = rows.get(survivor_id)
        for merged_id in merged_ids:
            row = rows.get(str(merged_id))
            if row is None or str(merged_id) == survivor_id:
                continue
            if survivor is None:
                row.source_id = survivor_id
                row.archived_at = row.archived_by = None
                row.updated_at = now
                survivor = row
            elif row.archived_at is None:
                row.archived_at, row.archived_by, row.updated_at = now, "hubspot:merge", now
