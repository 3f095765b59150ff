"""API keys: stored by hash, found by hash, listed by prefix."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import AccountRow, ApiKeyRow


def add(session: Session, row: ApiKeyRow) -> ApiKeyRow:
    session.add(row)
    session.flush()
    return row


def by_hash(session: Session, key_hash: str) -> tuple[ApiKeyRow, bool] | None:
    """The unrevoked key with this hash and whether its account is active."""
    found = session.execute(
        select(ApiKeyRow, AccountRow.active).join(AccountRow,
                                                   AccountRow.id == ApiKeyRow.account_id)
        .where(ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked_at.is_(None))).first()
    return (found[0], bool(found[1])) if found else None


def touch(session: Session, key_id: str, now: datetime) -> None:
    session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id)
                    .values(last_used_at=now))


def for_account(session: Session, account_id: str) -> list[ApiKeyRow]:
    return list(session.scalars(select(ApiKeyRow).where(ApiKeyRow.account_id == account_id)
                                .order_by(ApiKeyRow.created_at, ApiKeyRow.id)))


def get(session: Session, account_id: str, key_id: str) -> ApiKeyRow | None:
    return session.scalars(select(ApiKeyRow).where(ApiKeyRow.id == key_id,
                                                   ApiKeyRow.account_id == account_id)
                           ).one_or_none()
