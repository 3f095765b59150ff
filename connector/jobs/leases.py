"""Leases that name their holder, so a queued message can only run the rows it was sent for.

``inbox.claim`` takes a lease; the lease's expiry timestamp, exact to the microsecond, doubles
as the holder's token. A Celery task carries the ids it was sent and that token, and
``take`` re-leases a row only if the row still holds that very token (nobody re-dispatched
it meanwhile) or is claimable right now (its lease lapsed, or it is pending/failed and due).
A duplicate or stale message therefore finds nothing to do, and a row is never processed by
two live tasks at once. ``Heartbeat`` keeps renewing the lease of a long batch with the same
compare-and-set, so only a process that died lets its rows go back to the sweep.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update

from connector.store.db import Database
from connector.store.models import InboxEventRow

from .inbox import InboxEvent

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def token_of(lease_until: datetime) -> str:
    """The wire form of a lease token (ISO 8601 with microseconds and offset)."""
    return lease_until.astimezone(UTC).isoformat(timespec="microseconds")


def parse_token(token: str | None) -> datetime | None:
    if not token:
        return None
    try:
        value = datetime.fromisoformat(token)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def claimable(now: datetime):
    """Rows anyone may take now: pending or failed and due, or with a lapsed lease."""
    return or_(
        and_(InboxEventRow.status.in_(("pending", "failed")),
             InboxEventRow.next_attempt_at <= now),
        and_(InboxEventRow.status == "processing", InboxEventRow.lease_until < now),
    )


def take(db: Database, ids: Sequence[str], token: str | None, *, lease_seconds: int,
         kinds: Iterable[str] | None = None) -> tuple[list[InboxEvent], datetime]:
    """Lease those of ``ids`` that still hold ``token`` or are claimable; returns the events
    and the new lease (the token for renewals)."""
    now = _now()
    lease = now + timedelta(seconds=lease_seconds)
    if not ids:
        return [], lease
    held = parse_token(token)
    condition = claimable(now)
    if held is not None:
        condition = or_(condition, and_(InboxEventRow.status == "processing",
                                        InboxEventRow.lease_until == held))
    query = select(InboxEventRow).where(InboxEventRow.id.in_(list(ids)), condition)
    if kinds is not None:
        query = query.where(InboxEventRow.kind.in_(list(kinds)))
    if db.is_postgres:
        query = query.with_for_update(skip_locked=True)
    with db.session() as session:
        rows = list(session.scalars(query.order_by(InboxEventRow.id)))
        for row in rows:
            row.status, row.lease_until = "processing", lease
        events = [InboxEvent(r.id, r.source, r.account_key, r.kind, dict(r.payload), r.attempts)
                  for r in rows]
    return events, lease


def renew(db: Database, ids: Sequence[str], held: datetime, lease_seconds: int) -> datetime:
    """Extend the lease on rows still held with ``held``; returns the new token."""
    lease = _now() + timedelta(seconds=lease_seconds)
    with db.session() as session:
        session.execute(update(InboxEventRow)
                        .where(InboxEventRow.id.in_(list(ids)),
                               InboxEventRow.status == "processing",
                               InboxEventRow.lease_until == held)
                        .values(lease_until=lease))
    return lease


class Heartbeat:
    """Renews a batch's lease every third of its length while the batch runs."""

    def __init__(self, db: Database, ids: Sequence[str], lease: datetime,
                 lease_seconds: int) -> None:
        self.db, self.ids, self.lease, self.lease_seconds = db, list(ids), lease, lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(max(self.lease_seconds / 3.0, 0.5)):
            try:
                self.lease = renew(self.db, self.ids, self.lease, self.lease_seconds)
            except Exception:  # noqa: BLE001 - a missed renewal only risks a re-dispatch
                log.warning("lease renewal failed", exc_info=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def claim_due(db: Database, *, limit: int, lease_seconds: int,
              kinds: Iterable[str] | None = None) -> tuple[list[InboxEvent], datetime]:
    """``inbox.claim`` that also returns the lease, to be sent along as the token."""
    now = _now()
    lease = now + timedelta(seconds=lease_seconds)
    query = select(InboxEventRow).where(claimable(now))
    if kinds is not None:
        query = query.where(InboxEventRow.kind.in_(list(kinds)))
    query = query.order_by(InboxEventRow.next_attempt_at).limit(limit)
    if db.is_postgres:
        query = query.with_for_update(skip_locked=True)
    with db.session() as session:
        rows = list(session.scalars(query))
        for row in rows:
            row.status, row.lease_until = "processing", lease
        events = [InboxEvent(r.id, r.source, r.account_key, r.kind, dict(r.payload), r.attempts)
                  for r in rows]
    return events, lease


def release(db: Database, ids: Sequence[str], held: datetime) -> None:
    """Give rows back at once (their message could not be sent)."""
    with db.session() as session:
        session.execute(update(InboxEventRow)
                        .where(InboxEventRow.id.in_(list(ids)),
                               InboxEventRow.status == "processing",
                               InboxEventRow.lease_until == held)
                        .values(lease_until=_now() - timedelta(seconds=1)))
