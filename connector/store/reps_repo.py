"""Reps as /v1 sees them: the routers' ``reps`` rows plus their presence and capacity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import LeadRow, RepProfileRow, RepRow, RouterRow


def get(session: Session, account_id: str, rep_id: str) -> RepRow | None:
    return session.scalars(select(RepRow).where(RepRow.id == rep_id,
                                                RepRow.account_id == account_id)).one_or_none()


def page(session: Session, account_id: str, *, limit: int | None,
         after: tuple[str, str] | None) -> list[RepRow]:
    """Reps ordered by (email, id), the ``limit`` (None: all) after the cursor
    ``(email, id)``."""
    query = select(RepRow).where(RepRow.account_id == account_id)
    if after is not None:
        query = query.where((RepRow.email > after[0])
                            | ((RepRow.email == after[0]) & (RepRow.id > after[1])))
    query = query.order_by(RepRow.email, RepRow.id)
    return list(session.scalars(query if limit is None else query.limit(limit)))


def for_account(session: Session, account_id: str) -> list[RepRow]:
    return list(session.scalars(select(RepRow).where(RepRow.account_id == account_id)))


def profiles(session: Session, rep_ids: list[str]) -> dict[str, RepProfileRow]:
    if not rep_ids:
        return {}
    rows = session.scalars(select(RepProfileRow).where(RepProfileRow.rep_id.in_(rep_ids)))
    return {row.rep_id: row for row in rows}


def profile_for_update(session: Session, rep: RepRow) -> RepProfileRow:
    row = session.get(RepProfileRow, rep.id)
    if row is None:
        row = RepProfileRow(rep_id=rep.id, account_id=rep.account_id, status="AVAILABLE")
        session.add(row)
    return row


def add(session: Session, row: RepRow) -> RepRow:
    session.add(row)
    session.flush()
    return row


def leads_assigned_since(session: Session, account_id: str, rep_id: str,
                         since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(LeadRow).where(
        LeadRow.account_id == account_id, LeadRow.owner_rep_id == rep_id,
        LeadRow.created_at >= since)) or 0


def routers_for_update(session: Session, account_id: str) -> list[RouterRow]:
    return list(session.scalars(select(RouterRow).where(RouterRow.account_id == account_id)
                                .with_for_update()))


def routers_of(session: Session, account_id: str) -> list[RouterRow]:
    return list(session.scalars(select(RouterRow).where(RouterRow.account_id == account_id)))
