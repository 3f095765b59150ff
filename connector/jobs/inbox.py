"""The inbox: every accepted event is a row before we answer 2xx, and the row is the
truth about its processing.

Claiming takes a lease; a worker that dies leaves a lease that expires, and the next
claim picks the row up again (so processing must be idempotent, and is). Failures are
retried on a schedule and end as dead letters that can be replayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connector.store.db import Database
from connector.store.models import InboxEventRow, new_id

#: Seconds to wait before each retry; after the last one the event is a dead letter.
RETRY_SCHEDULE: tuple[float, ...] = (5, 30, 120, 600, 3600, 21600, 86400)


class Permanent(str):
    """An error that waiting cannot fix (a record failing its mapping, a tenant connected
    to no account, a malformed payload). A handler returns ``Permanent(message)`` instead
    of a plain string (which means "retry") and the event becomes a dead letter at once,
    to be replayed after the cause is fixed."""


@dataclass(frozen=True)
class NewEvent:
    source: str
    account_key: str
    event_key: str
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class InboxEvent:
    id: str
    source: str
    account_key: str
    kind: str
    payload: dict[str, Any]
    attempts: int


def _now() -> datetime:
    return datetime.now(UTC)


def store_events(db: Database, events: Sequence[NewEvent]) -> int:
    """Insert a whole batch in one transaction, ignoring duplicates; returns how many
    were new. Either every event of the batch is stored or none is."""
    if not events:
        return 0
    now = _now()
    rows = [{"id": new_id(), "source": e.source, "account_key": e.account_key,
             "event_key": e.event_key, "kind": e.kind, "payload": e.payload,
             "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
            for e in events]
    # on the table, not the mapped class: the ORM's bulk path would only add CPU to every
    # acknowledgement
    table = InboxEventRow.__table__
    insert = pg_insert if db.is_postgres else sqlite_insert
    statement = insert(table).on_conflict_do_nothing(
        index_elements=["source", "account_key", "event_key"]).returning(table.c.id)
    # the fast lane: an acknowledgement waits on this insert, never on queued dispatches
    with db.session(priority=True) as session:
        return len(session.connection().execute(statement, rows).all())


def _due(now: datetime):
    """Rows anyone may take now: pending or failed and due, or with a lapsed lease."""
    return or_(
        and_(InboxEventRow.status.in_(("pending", "failed")),
             InboxEventRow.next_attempt_at <= now),
        and_(InboxEventRow.status == "processing", InboxEventRow.lease_until < now),
    )


def linger_left(db: Database, *, limit: int, linger: float,
                kinds: Iterable[str] | None = None, queued: bool = False) -> float:
    """Seconds to hold back a claim that would take fewer than ``limit`` events (0.0: claim
    now). Nagle's rule for the inbox: while another batch is in flight, a partial batch
    waits until its oldest row has been due for ``linger`` seconds, so events arriving
    close together share one batch (one CRM read, one owner write, one router lock) instead
    of each webhook paying for its own; with nothing in flight an event goes at once, and
    a full batch never waits. Rows due for a while (retries, lapsed leases) are past their
    linger already. ``queued``: a claimed batch still waits for a worker (in a broker
    queue), so a partial batch claimed now would only queue behind it; it stays in the
    inbox, where it keeps growing, and is looked at again after ``linger``."""
    if linger <= 0:
        return 0.0
    now = _now()
    query = select(InboxEventRow.next_attempt_at).where(_due(now))
    flying = select(InboxEventRow.id).where(InboxEventRow.status == "processing",
                                            InboxEventRow.lease_until >= now)
    if kinds is not None:
        query = query.where(InboxEventRow.kind.in_(list(kinds)))
        flying = flying.where(InboxEventRow.kind.in_(list(kinds)))
    with db.read_session() as session:
        due = list(session.scalars(query.order_by(InboxEventRow.next_attempt_at)
                                   .limit(limit)))
        if not due or len(due) >= limit:
            return 0.0
        if queued:
            return linger
        left = (due[0] + timedelta(seconds=linger) - now).total_seconds()
        if left <= 0 or session.scalar(flying.limit(1)) is None:
            return 0.0
        return left


def claim(db: Database, *, limit: int = 100, lease_seconds: int = 60,
          kinds: Iterable[str] | None = None) -> list[InboxEvent]:
    """Lease up to ``limit`` due events: pending, failed and due, or with a lapsed lease."""
    now = _now()
    query = select(InboxEventRow).where(_due(now))
    if kinds is not None:
        query = query.where(InboxEventRow.kind.in_(list(kinds)))
    query = query.order_by(InboxEventRow.next_attempt_at).limit(limit)
    if db.is_postgres:
        query = query.with_for_update(skip_locked=True)
    with db.session() as session:
        rows = list(session.scalars(query))
        lease = now + timedelta(seconds=lease_seconds)
        for row in rows:
            row.status, row.lease_until = "processing", lease
        return [InboxEvent(r.id, r.source, r.account_key, r.kind, dict(r.payload), r.attempts)
                for r in rows]


def complete(db: Database, ids: Sequence[str]) -> None:
    if not ids:
        return
    with db.session() as session:
        session.execute(update(InboxEventRow).where(InboxEventRow.id.in_(list(ids)))
                        .values(status="done", lease_until=None, processed_at=_now(),
                                last_error=None))


def fail(db: Database, event_id: str, error: str, *, retryable: bool = True) -> str:
    """Record a failure; returns the new status ("failed" to retry later, or "dead").
    A :class:`Permanent` error is never retried."""
    retryable = retryable and not isinstance(error, Permanent)
    with db.session() as session:
        row = session.get(InboxEventRow, event_id)
        if row is None:
            return "missing"
        row.attempts += 1
        row.last_error = error[:4000]
        row.lease_until = None
        if retryable and row.attempts <= len(RETRY_SCHEDULE):
            row.status = "failed"
            row.next_attempt_at = _now() + timedelta(seconds=RETRY_SCHEDULE[row.attempts - 1])
        else:
            row.status = "dead"
        return row.status


def replay(db: Database, ids: Sequence[str] | None = None, *, all_failed: bool = False) -> int:
    """Put dead or failed events back in line now; returns how many."""
    query = update(InboxEventRow).where(InboxEventRow.status.in_(("dead", "failed")))
    if ids is not None:
        query = query.where(InboxEventRow.id.in_(list(ids)))
    elif not all_failed:
        return 0
    with db.session() as session:
        result = session.execute(query.values(status="pending", next_attempt_at=_now(),
                                              attempts=0, lease_until=None))
        return result.rowcount


def counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(select(InboxEventRow.status, func.count())
                               .group_by(InboxEventRow.status))
        return {status: n for status, n in rows}
