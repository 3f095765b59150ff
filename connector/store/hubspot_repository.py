"""SQL for the HubSpot connector: portals, mirrored records, owner writes, sync state.

Like ``repositories``, every function takes the caller's Session so one unit of work can
span several of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import (
    DecisionRow,
    HubSpotOwnerWriteRow,
    HubSpotPortalRow,
    ObjectRow,
    RepRow,
    RouterRow,
    new_id,
)

SOURCE = "hubspot"


def get_portal(session: Session, portal_id: str) -> HubSpotPortalRow | None:
    return session.get(HubSpotPortalRow, str(portal_id))


def portal_ids_for_account(session: Session, account_id: str) -> list[str]:
    return list(session.scalars(select(HubSpotPortalRow.portal_id).where(
        HubSpotPortalRow.account_id == account_id).order_by(HubSpotPortalRow.created_at)))


def save_portal(session: Session, portal_id: str, account_id: str, *,
                access_token_enc: str | None = None, refresh_token_enc: str | None = None,
                expires_at: datetime | None = None) -> HubSpotPortalRow:
    row = session.get(HubSpotPortalRow, str(portal_id))
    if row is None:
        row = HubSpotPortalRow(portal_id=str(portal_id), account_id=account_id)
        session.add(row)
    row.account_id = account_id
    if access_token_enc is not None:
        row.access_token_enc = access_token_enc
        row.refresh_token_enc = refresh_token_enc
        row.expires_at = expires_at
    session.flush()
    return row


def objects_by_source_ids(session: Session, account_id: str, object_type: str,
                          source_ids: Iterable[str]) -> dict[str, ObjectRow]:
    ids = list({str(i) for i in source_ids})
    if not ids:
        return {}
    rows = session.scalars(select(ObjectRow).where(
        ObjectRow.account_id == account_id, ObjectRow.source == SOURCE,
        ObjectRow.object_type == object_type, ObjectRow.source_id.in_(ids)))
    return {row.source_id: row for row in rows if row.source_id is not None}


def upsert_object(session: Session, existing: ObjectRow | None, account_id: str,
                  object_type: str, source_id: str, fields: dict[str, Any],
                  owner_rep_id: str | None, now: datetime) -> ObjectRow:
    """Create or refresh the mirror of one HubSpot record (keyed by its HubSpot id).

    The unique email/website columns stay empty for mirrored records: HubSpot is the
    system of record for duplicates, and two portals' records must never collide here.
    """
    row = existing
    if row is None:
        row = ObjectRow(id=new_id(), account_id=account_id, object_type=object_type,
                        source=SOURCE,
                        source_id=str(source_id), fields={}, created_at=now)
        session.add(row)
    row.fields = {k: v for k, v in fields.items() if v is not None}
    if row.owner_rep_id != owner_rep_id:
        row.owner_rep_id = owner_rep_id
    row.updated_at = now
    return row


def unsynced_owners(session: Session, object_ids: Iterable[str]) -> dict[str, str]:
    """Object id -> rep of its latest assignment whose write-back has not succeeded yet."""
    ids = [i for i in set(object_ids) if i]
    if not ids:
        return {}
    rows = session.execute(select(DecisionRow.object_id, DecisionRow.rep_id).where(
        DecisionRow.object_id.in_(ids), DecisionRow.assigned.is_(True),
        DecisionRow.sync_status.in_(("pending", "failed"))).order_by(DecisionRow.created_at))
    return {object_id: rep_id for object_id, rep_id in rows if rep_id}


def published_routers(session: Session, account_id: str, object_type: str) -> list[RouterRow]:
    return list(session.scalars(select(RouterRow).where(
        RouterRow.account_id == account_id, RouterRow.object_type == object_type,
        RouterRow.published.is_(True)).order_by(RouterRow.created_at, RouterRow.id)))


def account_reps(session: Session, account_id: str) -> list[RepRow]:
    return list(session.scalars(select(RepRow).where(RepRow.account_id == account_id)))


def owner_writes(session: Session, portal_id: str, object_type: str,
                 record_ids: Iterable[str]) -> dict[str, str]:
    ids = list({str(i) for i in record_ids})
    if not ids:
        return {}
    rows = session.scalars(select(HubSpotOwnerWriteRow).where(
        HubSpotOwnerWriteRow.portal_id == str(portal_id),
        HubSpotOwnerWriteRow.object_type == object_type,
        HubSpotOwnerWriteRow.record_id.in_(ids)))
    return {row.record_id: row.owner_id for row in rows}


def record_owner_writes(session: Session, portal_id: str,
                        writes: Sequence[tuple[str, str, str]], now: datetime) -> None:
    """Remember ``(object_type, record_id, owner_id)`` as written by us."""
    latest = {(t, str(r)): str(o) for t, r, o in writes}
    by_type: dict[str, list[str]] = {}
    for object_type, record_id in latest:
        by_type.setdefault(object_type, []).append(record_id)
    for object_type, ids in by_type.items():
        known = set(owner_writes(session, portal_id, object_type, ids))
        for record_id in ids:
            owner_id = latest[(object_type, record_id)]
            if record_id in known:
                session.execute(update(HubSpotOwnerWriteRow).where(
                    HubSpotOwnerWriteRow.portal_id == str(portal_id),
                    HubSpotOwnerWriteRow.object_type == object_type,
                    HubSpotOwnerWriteRow.record_id == record_id)
                    .values(owner_id=owner_id, written_at=now)
                    .execution_options(synchronize_session=False))
            else:
                session.add(HubSpotOwnerWriteRow(portal_id=str(portal_id),
                                                 object_type=object_type, record_id=record_id,
                                                 owner_id=owner_id, written_at=now))


def set_sync(session: Session, decision_ids: Sequence[str], status: str, *,
             error: str | None = None, next_sync_at: datetime | None = None,
             count_attempt: bool = True) -> None:
    if not decision_ids:
        return
    values: dict[str, Any] = {"sync_status": status, "sync_error": error,
                              "next_sync_at": next_sync_at}
    if count_attempt:
        values["sync_attempts"] = DecisionRow.sync_attempts + 1
    session.execute(update(DecisionRow).where(DecisionRow.id.in_(list(decision_ids)))
                    .values(**values).execution_options(synchronize_session=False))
