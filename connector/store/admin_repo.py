"""Queries behind the admin console. Like ``repositories``, every function takes the
caller's Session and every read is scoped to one account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from . import sources_repo
from .models import (
    AdminUserRow,
    DecisionRow,
    InboxEventRow,
    ObjectRow,
    RepRow,
    RouterRow,
)

FAILED_STATUSES = ("failed", "dead")


# -- admin users ----------------------------------------------------------------------

def admin_by_email(session: Session, email: str) -> AdminUserRow | None:
    return session.scalars(select(AdminUserRow).where(
        AdminUserRow.email == email.strip().lower())).one_or_none()


def admin_by_id(session: Session, admin_id: str) -> AdminUserRow | None:
    return session.get(AdminUserRow, admin_id)


# -- routers and reps -----------------------------------------------------------------

def routers(session: Session, account_id: str) -> list[RouterRow]:
    return list(session.scalars(select(RouterRow).where(RouterRow.account_id == account_id)
                                .order_by(RouterRow.created_at)))


def reps(session: Session, account_id: str) -> list[RepRow]:
    return list(session.scalars(select(RepRow).where(RepRow.account_id == account_id)
                                .order_by(RepRow.email)))


def rep_by_email(session: Session, account_id: str, email: str) -> RepRow | None:
    return session.scalars(select(RepRow).where(
        RepRow.account_id == account_id, RepRow.email == email.strip().lower())).one_or_none()


# -- decisions ------------------------------------------------------------------------

def objects_matching(session: Session, account_id: str, text: str) -> list[ObjectRow]:
    """Records whose id, CRM id, external id or email is ``text``."""
    text = text.strip()
    return list(session.scalars(select(ObjectRow).where(
        ObjectRow.account_id == account_id,
        or_(ObjectRow.id == text, ObjectRow.source_id == text, ObjectRow.external_id == text,
            ObjectRow.email == text.lower())).limit(50)))


def objects_by_id(session: Session, account_id: str, ids: set[str]) -> dict[str, ObjectRow]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    rows = session.scalars(select(ObjectRow).where(ObjectRow.account_id == account_id,
                                                   ObjectRow.id.in_(wanted)))
    return {row.id: row for row in rows}


def decisions(session: Session, account_id: str, *, object_ids: list[str] | None = None,
              rep_id: str | None = None, limit: int = 50) -> list[DecisionRow]:
    query = select(DecisionRow).where(DecisionRow.account_id == account_id)
    if object_ids is not None:
        query = query.where(DecisionRow.object_id.in_(object_ids))
    if rep_id is not None:
        query = query.where(DecisionRow.rep_id == rep_id)
    return list(session.scalars(query.order_by(DecisionRow.created_at.desc()).limit(limit)))


def decision(session: Session, account_id: str, decision_id: str) -> DecisionRow | None:
    return session.scalars(select(DecisionRow).where(
        DecisionRow.id == decision_id, DecisionRow.account_id == account_id)).one_or_none()


def assignments_since(session: Session, account_id: str,
                      since: datetime) -> list[tuple[str, datetime]]:
    """(rep email, time) of every assignment since ``since``: the chart's data."""
    rows = session.execute(select(DecisionRow.rep_email, DecisionRow.created_at).where(
        DecisionRow.account_id == account_id, DecisionRow.assigned.is_(True),
        DecisionRow.created_at >= since))
    return [(email or "?", created) for email, created in rows]


# -- inbox events: an account's are those of its portals/orgs (sources_repo) -----------

def event_counts(session: Session, account_id: str) -> dict[str, int]:
    rows = session.execute(select(InboxEventRow.status, func.count())
                           .where(sources_repo.event_scope(account_id))
                           .group_by(InboxEventRow.status))
    return {status: n for status, n in rows}


def events(session: Session, account_id: str, *, statuses: tuple[str, ...] | None = None,
           source: str | None = None, limit: int = 100) -> list[InboxEventRow]:
    query = select(InboxEventRow).where(sources_repo.event_scope(account_id))
    if statuses:
        query = query.where(InboxEventRow.status.in_(statuses))
    if source:
        query = query.where(InboxEventRow.source == source)
    return list(session.scalars(query.order_by(InboxEventRow.created_at.desc()).limit(limit)))


def event(session: Session, account_id: str, event_id: str) -> InboxEventRow | None:
    return session.scalars(select(InboxEventRow).where(
        InboxEventRow.id == event_id, sources_repo.event_scope(account_id))).one_or_none()
