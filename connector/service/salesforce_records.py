"""Salesforce records from Outbound Messages: map, route, write OwnerId back in batches.

Each notification is mapped (``mappings/salesforce/{lead,contact,case}.yaml``), mirrored
as a routable object and run through the published routers of its object type. The
owners of a whole claimed batch are then written with as few sObject Collections calls
as possible (the adapter splits at 200), and each decision records its own result.
A retried event reuses its earlier assignment instead of deciding again, so a
write-back that failed is retried without moving the record to another rep; every
decision stores its inbox event, so an event processed again after a crash never routes
its record twice. A record failing its mapping is a dead letter at once.

A record that another path reassigns (an SLA stage) has its OwnerId written at once by
``write_owner``, through the same owner lookup and ``Sforce-Auto-Assign: FALSE`` write: an
untouched record may never send another Outbound Message. A failed write marks the
decision ``failed`` and queues a ``salesforce_owner`` inbox event (``queue_retries``, as a
``/v1`` lead's CRM link does), which writes it again on the inbox's retry schedule.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from connector.core.errors import CrmError
from connector.core.model import Rep
from connector.core.ports import OwnerWrite
from connector.jobs import inbox
from connector.jobs.inbox import Permanent
from connector.mapping import MappingError
from connector.service import sla
from connector.service.dispatch import dispatch
from connector.store import salesforce as store
from connector.store import sources_repo
from connector.store.models import DecisionRow, ObjectRow
from connector.store.reads import detached

from .byoc import SalesforcePorts, rep_by_id
from .companies import mirror_salesforce_account

log = logging.getLogger(__name__)

OBJECTS = {"Lead": "lead", "Contact": "contact", "Case": "case"}
SOBJECTS = {v: k for k, v in OBJECTS.items()}
#: inbox kind of an OwnerId write to retry (``write_owner``)
KIND_OWNER = "salesforce_owner"
NOT_CONFIGURED = "Salesforce write-back is not configured (SALESFORCE_CLIENT_ID)"


@dataclass
class Pending:
    event_id: str
    write: OwnerWrite
    decision_id: str


def _previous_assignment(container: Any, account_id: str, object_id: str
                         ) -> tuple[str, str | None, Rep | None] | None:
    """An assignment whose write-back has not succeeded yet: (decision, router, rep)."""
    with container.db.session() as session:
        row = session.scalars(select(DecisionRow).where(
            DecisionRow.account_id == account_id, DecisionRow.object_id == object_id,
            DecisionRow.assigned.is_(True)).order_by(DecisionRow.created_at.desc())
            .limit(1)).one_or_none()
        if row is None or row.sync_status not in ("pending", "failed"):
            return None
        decision_id, router_id, rep_id = row.id, row.router_id, row.rep_id
    return decision_id, router_id, rep_by_id(container.db, rep_id)


def _decided_by_event(container: Any, event_id: str, object_id: str
                      ) -> tuple[tuple[str, str | None, str | None, str] | None, set[str]]:
    """What this event decided for the object before: its assignment (decision, router,
    rep, sync status) if any, and the routers it already ran."""
    with container.db.session() as session:
        rows = store.event_decisions(session, event_id, object_id)
        ran = {r.router_id for r in rows if r.router_id}
        assigned = [(r.id, r.router_id, r.rep_id, r.sync_status) for r in rows if r.assigned]
    return (assigned[-1] if assigned else None), ran


def _decide(container: Any, account_id: str, object_type: str, object_id: str,
            event_id: str | None = None, ran: set[str] | frozenset[str] = frozenset()
            ) -> tuple[str, str | None, Rep | None] | None:
    with container.db.session() as session:
        routers = [(r.id, (r.settings or {}).get("destination"))
                   for r in store.routers_for(session, account_id, object_type)]
    for router_id, _destination in routers:
        if router_id in ran:
            continue  # this event ran it before and it did not assign
        result = dispatch(container.db, account_id, router_id, object_id,
                          inbox_event_id=event_id)
        if result.decision.assigned:
            return result.decision_id, router_id, result.decision.rep
    return None


def _owner_id(container: Any, ports: SalesforcePorts, router_id: str | None,
              rep: Rep | None) -> str:
    destination: dict[str, Any] = {}
    if router_id:
        with container.db.session() as session:
            from connector.store.models import RouterRow

            router = session.get(RouterRow, router_id)
            destination = dict((router.settings or {}).get("destination") or {}) \
                if router else {}
    if destination.get("kind") == "queue":
        if destination.get("queue_id"):
            return destination["queue_id"]
        name = destination.get("queue") or ""
        found = ports.queues.queue_id(name) if ports.queues else None
        if not found:
            raise CrmError(f"no Salesforce queue with developer name {name!r}")
        return found
    if rep is None:
        raise CrmError("the decision has no rep")
    owner = rep.crm_ids.get("salesforce")
    if not owner and ports.directory is not None:
        owner = ports.directory.owner_id_for_email(rep.email)
    if not owner:
        raise CrmError(f"no active Salesforce user with the email {rep.email}")
    return owner


def _owned_as_we_left_it(container: Any, ports: SalesforcePorts, rep_id: str | None,
                         owner_id: str | None) -> bool:
    """True when Salesforce reports the owner we wrote: the notification is the echo of
    our own update, not a change to route."""
    if not rep_id or not owner_id:
        return False
    rep = rep_by_id(container.db, rep_id)
    if rep is None:
        return False
    ours = rep.crm_ids.get("salesforce")
    if not ours and ports.directory is not None:
        try:
            ours = ports.directory.owner_id_for_email(rep.email)
        except CrmError:
            return False
    return bool(ours) and ours[:15] == owner_id[:15]


def route_records(container: Any, ports: SalesforcePorts, account_id: str,
                  events: Sequence[Any]) -> dict[str, str | None]:
    results: dict[str, str | None] = {}
    pending: list[Pending] = []
    for event in events:
        sobject = event.payload.get("sobject")
        record = event.payload.get("record") or {}
        if sobject == "Account" and record.get("Id"):  # matched against, not routed
            mirror_salesforce_account(container.db, account_id, record, datetime.now(UTC))
            results[event.id] = None
            continue
        if sobject in sla.SALESFORCE_ACTIVITIES:
            sla.salesforce_activity(container.db, account_id, sobject, record)
            results[event.id] = None
            continue
        if record.get("LastActivityDate"):
            sla.salesforce_last_activity(container.db, account_id, OBJECTS.get(sobject or ""),
                                         record)
        obj = OBJECTS.get(sobject or "")
        if obj is None or not record.get("Id"):
            results[event.id] = None
            log.warning("Outbound Message for unsupported object %r ignored", sobject)
            continue
        try:
            mapping = container.mappings.get("salesforce", obj, account_id)
            fields = mapping.apply(record)
        except MappingError as exc:
            results[event.id] = Permanent(f"mapping failed: {exc}")
            continue
        with container.db.session() as session:
            row = store.upsert_object(session, account_id, mapping.object_type, record["Id"],
                                      fields, org_id=getattr(event, "account_key", None))
            object_id, owner_rep_id = row.id, row.owner_rep_id
        if _owned_as_we_left_it(container, ports, owner_rep_id, record.get("OwnerId")):
            results[event.id] = None  # our own write-back coming back: no reassignment loop
            continue
        earlier, ran = _decided_by_event(container, event.id, object_id)
        if earlier is not None and earlier[3] not in ("pending", "failed"):
            results[event.id] = None  # routed and written before the crash: done
            continue
        if earlier is not None and owner_rep_id != earlier[2]:
            results[event.id] = None  # a newer assignment has taken the record since
            continue
        if earlier is not None:  # routed before a crash: only the write-back is left
            chosen = (earlier[0], earlier[1], rep_by_id(container.db, earlier[2]))
        else:
            chosen = _previous_assignment(container, account_id, object_id) or \
                _decide(container, account_id, mapping.object_type, object_id, event.id, ran)
        results[event.id] = None
        if chosen is None:
            continue
        decision_id, router_id, rep = chosen
        try:
            owner = _owner_id(container, ports, router_id, rep)
        except CrmError as exc:
            _mark(container, decision_id, ok=False, error=str(exc))
            results[event.id] = None if not exc.retryable else str(exc)
            continue
        pending.append(Pending(event.id, OwnerWrite(sobject, record["Id"], owner), decision_id))
    if pending:
        _write(container, ports, pending, results)
    return results


def _write(container: Any, ports: SalesforcePorts, pending: list[Pending],
           results: dict[str, str | None]) -> None:
    if ports.writer is None:
        for item in pending:
            _mark(container, item.decision_id, ok=False, error=NOT_CONFIGURED)
        return
    newest: dict[str, Pending] = {}
    for item in pending:  # one write per record: the newest decision wins
        newest.pop(item.write.record_id[:15], None)
        newest[item.write.record_id[:15]] = item
    winners = {id(item) for item in newest.values()}
    for item in pending:
        winner = newest[item.write.record_id[:15]]
        if id(item) not in winners and item.decision_id != winner.decision_id:
            _mark(container, item.decision_id, ok=False,
                  error=f"superseded by decision {winner.decision_id} for the same record")
    try:
        outcomes = ports.writer.write_owners([p.write for p in newest.values()])
    except CrmError as exc:
        for item in newest.values():
            _mark(container, item.decision_id, ok=False, error=str(exc))
        for item in pending:
            if exc.retryable:
                results[item.event_id] = str(exc)
        return
    by_record = {o.record_id[:15]: o for o in outcomes}
    for item in newest.values():
        outcome = by_record.get(item.write.record_id[:15])
        if outcome is not None and outcome.ok:
            _mark(container, item.decision_id, ok=True)
            continue
        error = outcome.error if outcome is not None else "no result for this record"
        _mark(container, item.decision_id, ok=False, error=error)
        if outcome is not None and outcome.retryable:
            results[item.event_id] = error
    for item in pending:  # an event whose write was superseded shares the newest's fate
        if id(item) not in winners:
            results[item.event_id] = results.get(newest[item.write.record_id[:15]].event_id)


def _mark(container: Any, decision_id: str, *, ok: bool, error: str | None = None) -> None:
    with container.db.session() as session:
        store.mark_decision(session, decision_id, ok=ok, error=error)


def write_one(writer: Any, write: OwnerWrite) -> None:
    """One record's OwnerId through the batch write (``Sforce-Auto-Assign: FALSE``);
    raises ``CrmError`` with Salesforce's error when the record is refused."""
    result = writer.write_owners([write])[0]
    if not result.ok:
        raise CrmError(result.error or "not written", retryable=result.retryable)


def _write_now(container: Any, obj: ObjectRow, rep: Rep | None, decision_id: str,
               router_id: str | None) -> str | None:
    """Write the decision's owner on ``obj`` and record the outcome; the error, or None."""
    ports = container.extras.get("salesforce_ports") or SalesforcePorts()
    sobject = SOBJECTS.get(obj.object_type)
    try:
        if ports.writer is None:
            raise CrmError(NOT_CONFIGURED)
        if sobject is None or not obj.source_id:
            raise CrmError(f"a {obj.object_type} has no Salesforce record to write")
        write_one(ports.writer, OwnerWrite(sobject, obj.source_id,
                                           _owner_id(container, ports, router_id, rep)))
    except CrmError as exc:
        _mark(container, decision_id, ok=False, error=str(exc))
        return str(exc)
    _mark(container, decision_id, ok=True)
    return None


def write_owner(container: Any, account_id: str, obj: ObjectRow, rep: Rep | None,
                decision_id: str, router_id: str | None) -> str | None:
    """Write a reassigned Salesforce record's OwnerId now, rather than on its next
    Outbound Message (which an untouched record may never send). A failure is kept: the
    decision says ``failed`` with Salesforce's error and a ``salesforce_owner`` event
    retries the write on the inbox's schedule. The error, or None."""
    from .hubspot_owner_sync import queue_retries

    error = _write_now(container, obj, rep, decision_id, router_id)
    if error is None or error == NOT_CONFIGURED:  # no org to write to: nothing to retry
        return error
    org = obj.source_account
    if not org:
        with container.db.read_session() as session:
            org = next((key for source, key in sources_repo.keys_for_account(
                session, account_id) if source == "salesforce"), None)
    if org is None:
        log.warning("decision %s: no connected Salesforce org to retry its write", decision_id)
        return error
    queue_retries(container.db, [inbox.NewEvent(
        "salesforce", org, f"sla-owner:{decision_id}", KIND_OWNER,
        {"account_id": account_id, "decision_id": decision_id})], [error])
    return error


def handle_owner_writes(container: Any, events: Sequence[Any]) -> dict[str, str | None]:
    """Inbox handler for ``salesforce_owner``: write again the owners whose write failed.
    A decision that is synced, or whose record has another owner since, is done."""
    results: dict[str, str | None] = {}
    for event in events:
        results[event.id] = None
        with detached(container.db) as session:
            decision = session.get(DecisionRow, str(event.payload.get("decision_id")))
            obj = session.get(ObjectRow, decision.object_id) if decision is not None else None
        if decision is None or obj is None or decision.sync_status == "synced" \
                or obj.owner_rep_id != decision.rep_id:
            continue
        results[event.id] = _write_now(container, obj, rep_by_id(container.db, decision.rep_id),
                                       decision.id, decision.router_id)
    return results
