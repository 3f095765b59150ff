"""Repositories: the only place SQL is written. Each takes the caller's Session, so one
unit of work can span several of them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, defer

from connector.core.calendar import merged
from connector.core.codec import (
    out_of_office_from_list,
    settings_from_dict,
    working_hours_from_dict,
)
from connector.core.distribution import RotationState
from connector.core.engine import RouterState
from connector.core.model import Account, Rep, RepStatus, RoutableObject, Router

from .models import (
    AccountRow,
    AssignmentCounterRow,
    CalendarFeedRow,
    DecisionRow,
    ObjectRow,
    RepRow,
    RouterRow,
)


def account_to_domain(row: AccountRow) -> Account:
    return Account(id=row.id, name=row.name, active=row.active)


def rep_to_domain(row: RepRow) -> Rep:
    return Rep(
        id=row.id, email=row.email, name=row.name, status=RepStatus(row.status),
        timezone=row.timezone, working_hours=working_hours_from_dict(row.working_hours),
        out_of_office=out_of_office_from_list(row.out_of_office),
        crm_ids=dict(row.crm_ids or {}),
    )


def router_to_domain(row: RouterRow) -> Router:
    return Router(id=row.id, account_id=row.account_id, name=row.name,
                  object_type=row.object_type, published=row.published,
                  settings=settings_from_dict(row.settings))


def object_to_domain(row: ObjectRow) -> RoutableObject:
    return RoutableObject(id=row.id, object_type=row.object_type, fields=dict(row.fields),
                          owner_rep_id=row.owner_rep_id, archived=row.archived_at is not None)


def get_account(session: Session, account_id: str) -> AccountRow | None:
    return session.get(AccountRow, account_id)


def get_router(session: Session, account_id: str, router_id: str,
               *, lock: bool = False, settings: bool = True) -> RouterRow | None:
    """``settings=False`` leaves the settings column unread until used (a dispatch
    usually has them in its router cache)."""
    query = select(RouterRow).where(RouterRow.id == router_id,
                                    RouterRow.account_id == account_id)
    if not settings:
        query = query.options(defer(RouterRow.settings))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def get_object(session: Session, account_id: str, object_id: str,
               object_type: str | None = None) -> ObjectRow | None:
    query = select(ObjectRow).where(ObjectRow.id == object_id,
                                    ObjectRow.account_id == account_id)
    if object_type is not None:
        query = query.where(ObjectRow.object_type == object_type)
    return session.scalars(query).one_or_none()


def get_object_by_source(session: Session, account_id: str, source: str, object_type: str,
                         source_id: str) -> ObjectRow | None:
    return session.scalars(select(ObjectRow).where(
        ObjectRow.account_id == account_id, ObjectRow.source == source,
        ObjectRow.object_type == object_type, ObjectRow.source_id == source_id)).one_or_none()


def reps_by_id(session: Session, account_id: str, ids: Iterable[str]) -> dict[str, Rep]:
    wanted = [i for i in set(ids) if i]
    if not wanted:
        return {}
    rows = session.scalars(select(RepRow).where(RepRow.account_id == account_id,
                                                RepRow.id.in_(wanted)))
    reps = {row.id: rep_to_domain(row) for row in rows}
    # calendar feeds' out-of-office periods (worked out when the feed was refreshed)
    for rep_id, found in session.execute(select(CalendarFeedRow.rep_id,
                                                CalendarFeedRow.absences)
                                         .where(CalendarFeedRow.rep_id.in_(wanted))):
        if found and rep_id in reps:
            rep = reps[rep_id]
            reps[rep_id] = replace(rep, out_of_office=merged(
                [*rep.out_of_office, *out_of_office_from_list(found)]))
    return reps


def load_router_state(session: Session, router: RouterRow, rep_ids: Sequence[str],
                      window_start: datetime | None,
                      capped_rep_ids: Collection[str] | None = None) -> RouterState:
    """Rotation, cap counters and load-window counts; call with the router row locked.
    ``capped_rep_ids``: only caps read counters, so only those reps' are loaded (none for
    a router without caps); None loads every counter of the router."""
    query = select(AssignmentCounterRow.rep_id, AssignmentCounterRow.period,
                   AssignmentCounterRow.period_key, AssignmentCounterRow.count) \
        .where(AssignmentCounterRow.router_id == router.id)
    if capped_rep_ids is not None:
        query = query.where(AssignmentCounterRow.rep_id.in_(sorted(capped_rep_ids)))
    counters = session.execute(query) if capped_rep_ids is None or capped_rep_ids else ()
    period_counts = {(r, p, k): c for r, p, k, c in counters}
    window_counts: dict[str, int] = {}
    if window_start is not None and rep_ids:
        rows = session.execute(
            select(DecisionRow.rep_id, func.count())
            .where(DecisionRow.router_id == router.id, DecisionRow.assigned.is_(True),
                   DecisionRow.created_at >= window_start,
                   DecisionRow.credited_at.is_(None))
            .group_by(DecisionRow.rep_id))
        window_counts = {rep: n for rep, n in rows if rep}
    rotation = RotationState(router.rr_last_position, dict(router.current_weights or {}))
    return RouterState(rotation=rotation, period_counts=period_counts,
                       window_counts=window_counts)


def count_assignment(session: Session, router_id: str, rep_id: str,
                     periods: dict[str, str]) -> None:
    """Add one to the rep's day and week counters (under the router lock), and drop
    counters of periods that have passed. One UPDATE of both in the usual case; Core
    statements on the connection, as the ORM's bulk update path costs more than the
    write itself."""
    if not periods:
        return
    table = AssignmentCounterRow.__table__
    c = table.c
    mine = (c.router_id == router_id) & (c.rep_id == rep_id)
    current = or_(*[(c.period == period) & (c.period_key == key)
                    for period, key in periods.items()])
    connection = session.connection()
    updated = connection.execute(update(table).where(mine, current)
                                 .values(count=c.count + 1)).rowcount
    if updated == len(periods):
        return
    for period, key in periods.items():
        existing = connection.execute(select(c.period_key).where(
            mine, c.period == period)).scalars().all()
        if existing == [key]:
            continue  # counted by the UPDATE above
        connection.execute(table.delete().where(mine, c.period == period))
        connection.execute(table.insert().values(router_id=router_id, rep_id=rep_id,
                                                 period=period, period_key=key, count=1))


def decisions_for(session: Session, account_id: str, *, object_id: str | None = None,
                  rep_id: str | None = None, router_id: str | None = None,
                  limit: int = 100) -> list[DecisionRow]:
    query = select(DecisionRow).where(DecisionRow.account_id == account_id)
    if object_id:
        query = query.where(DecisionRow.object_id == object_id)
    if rep_id:
        query = query.where(DecisionRow.rep_id == rep_id)
    if router_id:
        query = query.where(DecisionRow.router_id == router_id)
    return list(session.scalars(query.order_by(DecisionRow.created_at.desc()).limit(limit)))


def decision_as_dict(row: DecisionRow) -> dict[str, Any]:
    return {
        "id": row.id, "router_id": row.router_id, "object_id": row.object_id,
        "outcome": row.outcome, "message": row.message, "assigned": row.assigned,
        "user": row.rep_email, "user_id": row.rep_id, "field_name": row.field_name,
        "reason": row.reason, "sync_status": row.sync_status, "sync_error": row.sync_error,
        "created_at": row.created_at.isoformat().replace("+00:00", "Z"),
    }
