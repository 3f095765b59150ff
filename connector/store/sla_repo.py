"""SLA monitors and clocks: the queries the SLA service runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .models import AssignmentCounterRow, SlaClockRow, SlaMonitorRow

#: clock states a touch can still stop (a breached clock records what ended it, late)
OPEN = ("running", "breached")


def monitors(session: Session, account_id: str) -> list[SlaMonitorRow]:
    return list(session.scalars(select(SlaMonitorRow).where(
        SlaMonitorRow.account_id == account_id).order_by(SlaMonitorRow.created_at,
                                                         SlaMonitorRow.id)))


def monitor(session: Session, account_id: str, monitor_id: str) -> SlaMonitorRow | None:
    return session.scalars(select(SlaMonitorRow).where(
        SlaMonitorRow.account_id == account_id, SlaMonitorRow.id == monitor_id)).one_or_none()


def attached(session: Session, account_id: str, *, router_id: str | None,
             ruleset_id: str | None) -> list[SlaMonitorRow]:
    """The active monitors of a router or a ruleset."""
    wanted = []
    if router_id:
        wanted.append(SlaMonitorRow.router_id == router_id)
    if ruleset_id:
        wanted.append(SlaMonitorRow.ruleset_id == ruleset_id)
    if not wanted:
        return []
    return list(session.scalars(select(SlaMonitorRow).where(
        SlaMonitorRow.account_id == account_id, SlaMonitorRow.active.is_(True),
        or_(*wanted))))


def open_clocks(session: Session, account_id: str, object_id: str,
                monitor_ids: list[str] | None = None) -> list[SlaClockRow]:
    query = select(SlaClockRow).where(SlaClockRow.account_id == account_id,
                                      SlaClockRow.object_id == object_id,
                                      SlaClockRow.state.in_(OPEN))
    if monitor_ids is not None:
        query = query.where(SlaClockRow.monitor_id.in_(monitor_ids))
    return list(session.scalars(query))


def clocks_of(session: Session, account_id: str, object_id: str) -> list[SlaClockRow]:
    return list(session.scalars(select(SlaClockRow).where(
        SlaClockRow.account_id == account_id, SlaClockRow.object_id == object_id)
        .order_by(SlaClockRow.created_at, SlaClockRow.id)))


def recent_clocks(session: Session, account_id: str, limit: int) -> list[SlaClockRow]:
    return list(session.scalars(select(SlaClockRow).where(
        SlaClockRow.account_id == account_id)
        .order_by(SlaClockRow.created_at.desc(), SlaClockRow.id).limit(limit)))


def due_ids(session: Session, now: datetime, limit: int) -> list[str]:
    return list(session.scalars(select(SlaClockRow.id).where(
        SlaClockRow.state == "running", SlaClockRow.next_check_at <= now)
        .order_by(SlaClockRow.next_check_at).limit(limit)))


def claim(session: Session, clock: SlaClockRow) -> bool:
    """Take the clock for this transaction: a conditional UPDATE on its version, which
    one transaction wins (PostgreSQL's row lock makes the loser wait for the winner's
    commit, then match nothing; SQLite's write lock serialises them)."""
    result = session.execute(
        update(SlaClockRow)
        .where(SlaClockRow.id == clock.id, SlaClockRow.version == clock.version,
               SlaClockRow.state == "running")
        .values(version=clock.version + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def uncount_assignment(session: Session, router_id: str, rep_id: str,
                       periods: dict[str, str]) -> None:
    """Take one assignment off the rep's day and week counters (never below zero)."""
    for period, key in periods.items():
        session.execute(
            update(AssignmentCounterRow)
            .where(AssignmentCounterRow.router_id == router_id,
                   AssignmentCounterRow.rep_id == rep_id,
                   AssignmentCounterRow.period == period,
                   AssignmentCounterRow.period_key == key,
                   AssignmentCounterRow.count > 0)
            .values(count=AssignmentCounterRow.count - 1))
