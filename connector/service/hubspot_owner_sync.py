"""Writing owners back to HubSpot, and retrying the writes that failed.

A write that still fails after the client's short retries never undoes the assignment:
the decision is marked ``failed`` with the error (``POST /dispatch/router`` answers
``hubspot_sync_failed``/``hubspot_error``), and a ``hubspot_owner_sync`` inbox event is
queued for it. The inbox gives that event the long retry schedule, the dead letter at
the end, and replay (``connector events replay``, ``POST /events/{id}/replay``); the
decision's ``next_sync_at``/``sync_status`` mirror it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from connector.core.errors import CrmError, PermanentCrmError
from connector.core.ports import OwnerWrite
from connector.jobs import inbox
from connector.store import hubspot_repository as hs_repo
from connector.store.db import Database
from connector.store.models import DecisionRow, InboxEventRow, ObjectRow, RepRow

SOURCE = "hubspot"
KIND_SYNC = "hubspot_owner_sync"


@dataclass(frozen=True)
class FailedSync:
    decision_id: str
    object_type: str
    record_id: str
    error: str


def hubspot_owner_id(client: Any, email: str, crm_ids: dict[str, Any] | None) -> str | None:
    """A rep's HubSpot owner id: set on the rep (``crm_ids.hubspot``) or found by email."""
    known = (crm_ids or {}).get("hubspot")
    return str(known) if known else client.owner_id_for_email(email)


def schedule_retries(db: Database, account_key: str, failures: Sequence[FailedSync]) -> None:
    """Queue one retry event per failed write (first try after the schedule's first step)."""
    if not failures:
        return
    events = [inbox.NewEvent(SOURCE, account_key, f"owner-sync:{f.decision_id}", KIND_SYNC,
                             {"decision_id": f.decision_id, "portal_id": account_key,
                              "object_type": f.object_type, "record_id": f.record_id})
              for f in failures]
    next_at = queue_retries(db, events, [f.error for f in failures])
    with db.session() as session:
        for failure in failures:
            hs_repo.set_sync(session, [failure.decision_id], "failed", error=failure.error,
                             next_sync_at=next_at, count_attempt=False)


def queue_retries(db: Database, events: Sequence[inbox.NewEvent],
                  errors: Sequence[str]) -> datetime:
    """Store retry events (one per key; a key already queued keeps its schedule) and
    count the failure that made each, so the first retry waits the schedule's first step.
    Returns when that is."""
    inbox.store_events(db, events)
    keys = {(e.source, e.account_key, e.event_key): error
            for e, error in zip(events, errors, strict=True)}
    with db.session() as session:
        rows = session.execute(select(InboxEventRow.id, InboxEventRow.source,
                                      InboxEventRow.account_key, InboxEventRow.event_key,
                                      InboxEventRow.status).where(
            InboxEventRow.event_key.in_([e.event_key for e in events]))).all()
    for event_id, source, account_key, key, status in rows:
        error = keys.get((source, account_key, key))
        if error is not None and status == "pending":
            inbox.fail(db, event_id, error)
    return datetime.now(UTC) + timedelta(seconds=inbox.RETRY_SCHEDULE[0])


def write_owners(db: Database, client: Any, portal_id: str,
                 writes: Sequence[tuple[str, OwnerWrite]], *,
                 mark_synced: bool = True) -> dict[str, str | None]:
    """Batch-write ``(decision_id, OwnerWrite)`` pairs; {decision id: error or None}.

    In one transaction afterwards, the owners written are remembered (so the
    ``propertyChange`` HubSpot sends back for them is known as our own even when it
    carries no ``sourceId``) and, with ``mark_synced``, their decisions marked synced.
    """
    if not writes:
        return {}
    try:
        results = client.write_owners([w for _, w in writes])
        outcome = {decision_id: (None if res.ok else (res.error or "not written"))
                   for (decision_id, _), res in zip(writes, results, strict=True)}
    except CrmError as exc:
        outcome = {decision_id: str(exc) for decision_id, _ in writes}
    done = [(d, w) for d, w in writes if outcome[d] is None]
    if done:
        with db.session() as session:
            hs_repo.record_owner_writes(session, portal_id, [
                (w.object_type, w.record_id, w.owner_id) for _, w in done], datetime.now(UTC))
            if mark_synced:
                hs_repo.set_sync(session, [d for d, _ in done], "synced")
    return outcome


class HubSpotOwnerSync:
    """The ``OwnerSync`` of ``POST /dispatch/router`` for records that came from HubSpot."""

    def __init__(self, db: Database, portals: Any, fallback: Any = None) -> None:
        self.db = db
        self.portals = portals
        self.fallback = fallback

    def __call__(self, account_id: str, obj: ObjectRow, rep: Any, decision_id: str) -> None:
        if obj.source != SOURCE:
            if self.fallback is not None:
                self.fallback(account_id, obj, rep, decision_id)
            return
        portal = self._portal_of(account_id, obj)
        try:
            if portal is None:
                raise PermanentCrmError("no HubSpot portal is connected to this account")
            if self.portals.account_for(portal) != account_id:
                raise PermanentCrmError(f"HubSpot portal {portal}, where this record comes "
                                        "from, is no longer connected to this account")
            client = self.portals.client_for(portal, interactive=True)
            time_limit = getattr(client, "time_limit", None)
            with time_limit() if time_limit is not None else nullcontext():
                # the owner lookup and the write share the interactive time limit
                owner_id = hubspot_owner_id(client, rep.email, rep.crm_ids)
                if owner_id is None:
                    raise PermanentCrmError(f"no HubSpot owner has the email {rep.email}")
                write = OwnerWrite(obj.object_type, str(obj.source_id), owner_id)
                error = write_owners(self.db, client, portal, [(decision_id, write)],
                                     mark_synced=False)[decision_id]
            if error is not None:
                raise CrmError(error)
        except CrmError as exc:
            schedule_retries(self.db, portal or account_id, [
                FailedSync(decision_id, obj.object_type, str(obj.source_id), str(exc))])
            raise


    def _portal_of(self, account_id: str, obj: ObjectRow) -> str | None:
        """The portal the record was mirrored from; records mirrored before portals were
        remembered fall back to the account's first portal."""
        return obj.source_account or self.portals.portal_for_account(account_id)


def by_portal(events: Sequence[inbox.InboxEvent]) -> dict[str, list[inbox.InboxEvent]]:
    """Inbox events grouped by the HubSpot portal in their payload (``portal_id``)."""
    groups: dict[str, list[inbox.InboxEvent]] = defaultdict(list)
    for event in events:
        groups[str(event.payload.get("portal_id"))].append(event)
    return groups


def handle_owner_sync(container: Any, events: Sequence[inbox.InboxEvent]
                      ) -> dict[str, str | None]:
    """Inbox handler for ``hubspot_owner_sync``: retry failed write-backs, in batches."""
    db: Database = container.db
    portals = container.extras["hubspot"].portals
    results: dict[str, str | None] = {}
    for portal, group in by_portal(events).items():
        try:
            client = portals.client_for(portal)
        except CrmError as exc:
            results.update({e.id: str(exc) for e in group})
            continue
        portal_account = portals.account_for(portal)
        pending: list[tuple[str, OwnerWrite]] = []
        event_of: dict[str, inbox.InboxEvent] = {}
        todo = []
        with db.session() as session:
            for event in group:
                decision = session.get(DecisionRow, event.payload.get("decision_id"))
                obj = session.get(ObjectRow, decision.object_id) if decision else None
                rep = session.get(RepRow, decision.rep_id) if decision and \
                    decision.rep_id else None
                if decision is None or obj is None or rep is None \
                        or decision.sync_status == "synced" or obj.owner_rep_id != rep.id \
                        or obj.archived_at is not None:
                    results[event.id] = None  # gone, done, or superseded by a newer owner
                    continue
                if decision.account_id != portal_account:  # never write into another account
                    results[event.id] = inbox.Permanent(
                        f"HubSpot portal {portal} is no longer connected to this account")
                    continue
                todo.append((event, decision.id, obj.object_type, str(obj.source_id),
                             rep.email, dict(rep.crm_ids or {})))
        for event, decision_id, object_type, record_id, email, crm_ids in todo:
            try:  # may call HubSpot (owners), so never inside a transaction
                owner_id = hubspot_owner_id(client, email, crm_ids)
            except CrmError as exc:
                results[event.id] = str(exc)
                continue
            if owner_id is None:
                results[event.id] = f"no HubSpot owner has the email {email}"
                continue
            pending.append((decision_id, OwnerWrite(object_type, record_id, owner_id)))
            event_of[decision_id] = event
        outcome = write_owners(db, client, portal, pending)
        for decision_id, error in outcome.items():
            results[event_of[decision_id].id] = error
    _mirror_failures(db, events, results)
    return results


def _mirror_failures(db: Database, events: Sequence[inbox.InboxEvent],
                     results: dict[str, str | None]) -> None:
    """Keep the decisions' sync status in step with the inbox's retry schedule."""
    now = datetime.now(UTC)
    with db.session() as session:
        for event in events:
            error = results.get(event.id)
            if error is None:
                continue
            attempt = event.attempts + 1
            if attempt <= len(inbox.RETRY_SCHEDULE) and not isinstance(error, inbox.Permanent):
                next_at = now + timedelta(seconds=inbox.RETRY_SCHEDULE[attempt - 1])
                hs_repo.set_sync(session, [event.payload["decision_id"]], "failed",
                                 error=error, next_sync_at=next_at)
            else:
                hs_repo.set_sync(session, [event.payload["decision_id"]], "dead", error=error)


def lookup_object(session: Any, account_id: str, object_id: str) -> ObjectRow | None:
    """``POST /dispatch/router`` object ids: ours, or a HubSpot record id we mirror."""
    row = session.get(ObjectRow, object_id)
    if row is not None:
        return row if row.account_id == account_id else None
    rows = list(session.scalars(select(ObjectRow).where(
        ObjectRow.account_id == account_id, ObjectRow.source == SOURCE,
        ObjectRow.source_id == object_id).limit(2)))
    return rows[0] if len(rows) == 1 else None
