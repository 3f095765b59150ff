"""Leads, /v1 contacts and their activities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import ActivityRow, DecisionRow, LeadRow, ObjectRow

CONTACT = "contact"


def add(session: Session, row: LeadRow | ActivityRow | ObjectRow) -> None:
    session.add(row)
    session.flush()


def lead(session: Session, account_id: str, lead_id: str) -> LeadRow | None:
    return session.scalars(select(LeadRow).where(LeadRow.id == lead_id,
                                                 LeadRow.account_id == account_id)).one_or_none()


def lead_by_idempotency_key(session: Session, account_id: str, key: str) -> LeadRow | None:
    return session.scalars(select(LeadRow).where(LeadRow.account_id == account_id,
                                                 LeadRow.idempotency_key == key)).one_or_none()


def recent_lead_with_email(session: Session, account_id: str, email: str,
                           since: datetime) -> LeadRow | None:
    """The first lead (not itself a duplicate) with ``email`` created since ``since``."""
    return session.scalars(select(LeadRow).where(
        LeadRow.account_id == account_id, LeadRow.email == email,
        LeadRow.duplicate_of.is_(None), LeadRow.created_at >= since)
        .order_by(LeadRow.created_at).limit(1)).one_or_none()


def leads_page(session: Session, account_id: str, *, limit: int,
               before: tuple[datetime, str] | None, owner_rep_id: str | None = None,
               email: str | None = None, rule_id: str | None = None,
               created_from: datetime | None = None,
               created_to: datetime | None = None) -> list[LeadRow]:
    """Newest first; the cursor is the (created_at, id) of the last lead of a page."""
    query = select(LeadRow).where(LeadRow.account_id == account_id)
    if owner_rep_id is not None:
        query = query.where(LeadRow.owner_rep_id == owner_rep_id)
    if email is not None:
        query = query.where(LeadRow.email == email)
    if rule_id is not None:
        query = query.where(LeadRow.rule_id == rule_id)
    if created_from is not None:
        query = query.where(LeadRow.created_at >= created_from)
    if created_to is not None:
        query = query.where(LeadRow.created_at < created_to)
    if before is not None:
        query = query.where(or_(LeadRow.created_at < before[0],
                                (LeadRow.created_at == before[0]) & (LeadRow.id < before[1])))
    return list(session.scalars(query.order_by(LeadRow.created_at.desc(), LeadRow.id.desc())
                                .limit(limit)))


def decisions(session: Session, ids: list[str]) -> dict[str, DecisionRow]:
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(DecisionRow)
                                                   .where(DecisionRow.id.in_(ids)))}


def contact(session: Session, account_id: str, contact_id: str) -> ObjectRow | None:
    return session.scalars(select(ObjectRow).where(
        ObjectRow.id == contact_id, ObjectRow.account_id == account_id,
        ObjectRow.object_type == CONTACT, ObjectRow.archived_at.is_(None))).one_or_none()


def contact_by(session: Session, account_id: str, *, email: str | None,
               external_id: str | None) -> ObjectRow | None:
    """The active contact with this external id, else with this email. A contact
    mirrored from a CRM comes before one created through the API: it is the record the
    owner is written back to."""
    for column, value in ((ObjectRow.external_id, external_id), (ObjectRow.email, email)):
        if value is None:
            continue
        rows = list(session.scalars(select(ObjectRow).where(
            ObjectRow.account_id == account_id, ObjectRow.object_type == CONTACT,
            ObjectRow.archived_at.is_(None), column == value)))
        if rows:
            return sorted(rows, key=lambda r: (r.source == "api", r.created_at))[0]
    return None


def activities_page(session: Session, account_id: str, contact_id: str, *, limit: int,
                    before: tuple[datetime, str] | None) -> list[ActivityRow]:
    query = select(ActivityRow).where(ActivityRow.account_id == account_id,
                                      ActivityRow.contact_id == contact_id)
    if before is not None:
        query = query.where(or_(ActivityRow.occurred_at < before[0],
                                (ActivityRow.occurred_at == before[0])
                                & (ActivityRow.id < before[1])))
    return list(session.scalars(query.order_by(ActivityRow.occurred_at.desc(),
                                               ActivityRow.id.desc()).limit(limit)))


def activity(session: Session, account_id: str, activity_id: str) -> ActivityRow | None:
    return session.scalars(select(ActivityRow).where(
        ActivityRow.id == activity_id, ActivityRow.account_id == account_id)).one_or_none()


def leads_between(session: Session, account_id: str, start: datetime,
                  end: datetime) -> list[LeadRow]:
    return list(session.scalars(select(LeadRow).where(
        LeadRow.account_id == account_id, LeadRow.created_at >= start,
        LeadRow.created_at < end, LeadRow.duplicate_of.is_(None))))


def activities_of_contacts(session: Session, account_id: str,
                           contact_ids: list[str]) -> list[ActivityRow]:
    if not contact_ids:
        return []
    return list(session.scalars(select(ActivityRow).where(
        ActivityRow.account_id == account_id, ActivityRow.contact_id.in_(contact_ids))
        .order_by(ActivityRow.occurred_at)))
