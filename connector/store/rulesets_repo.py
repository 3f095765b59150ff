"""Rulesets and their versions."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import RulesetRow, RulesetVersionRow


def add(session: Session, row: RulesetRow) -> RulesetRow:
    session.add(row)
    session.flush()
    add_version(session, row)
    return row


def add_version(session: Session, row: RulesetRow) -> None:
    session.add(RulesetVersionRow(ruleset_id=row.id, version=row.version, rules=row.rules,
                                  default_rule=row.default_rule))
    session.flush()


def get(session: Session, account_id: str, ruleset_id: str, *,
        lock: bool = False) -> RulesetRow | None:
    query = select(RulesetRow).where(RulesetRow.id == ruleset_id,
                                     RulesetRow.account_id == account_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def for_account(session: Session, account_id: str) -> list[RulesetRow]:
    return list(session.scalars(select(RulesetRow).where(RulesetRow.account_id == account_id)
                                .order_by(RulesetRow.created_at, RulesetRow.id)))


def active(session: Session, account_id: str) -> RulesetRow | None:
    return session.scalars(select(RulesetRow).where(RulesetRow.account_id == account_id,
                                                    RulesetRow.active.is_(True))
                           .limit(1)).one_or_none()


def deactivate_others(session: Session, account_id: str, keep_id: str) -> None:
    session.execute(update(RulesetRow).where(RulesetRow.account_id == account_id,
                                             RulesetRow.id != keep_id)
                    .values(active=False))


def versions(session: Session, ruleset_id: str) -> list[RulesetVersionRow]:
    return list(session.scalars(select(RulesetVersionRow)
                                .where(RulesetVersionRow.ruleset_id == ruleset_id)
                                .order_by(RulesetVersionRow.version)))


def delete(session: Session, row: RulesetRow) -> None:
    session.delete(row)
