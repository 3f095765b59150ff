"""SQL for field-mapping versions (the rows behind ``connector.mapping.versions``)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .models import MappingVersionRow, RouterRow


def _scope(account_id: str | None):
    """Rows of one account's own versions, or of the defaults (``None``)."""
    return (MappingVersionRow.account_id.is_(None) if account_id is None
            else MappingVersionRow.account_id == account_id)


def latest_number(session: Session, source: str, obj: str,
                  account_id: str | None = None) -> int:
    """The newest saved version number of a scope, 0 when it has none."""
    return session.scalar(select(func.max(MappingVersionRow.version)).where(
        _scope(account_id), MappingVersionRow.source == source,
        MappingVersionRow.object == obj)) or 0


def latest_pair(session: Session, source: str, obj: str,
                account_id: str | None) -> tuple[int, int]:
    """(the account's newest version, the defaults' newest version) in one query; the
    account's is 0 when it has none (or ``account_id`` is None)."""
    rows = session.execute(
        select(MappingVersionRow.account_id, func.max(MappingVersionRow.version))
        .where(MappingVersionRow.source == source, MappingVersionRow.object == obj,
               _scope(None) if account_id is None
               else or_(_scope(None), _scope(account_id)))
        .group_by(MappingVersionRow.account_id))
    found = {owner: number for owner, number in rows}
    return (found.get(account_id, 0) if account_id is not None else 0), found.get(None, 0)


def latest_numbers(session: Session, account_id: str | None = None
                   ) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(MappingVersionRow.source, MappingVersionRow.object,
               func.max(MappingVersionRow.version)).where(_scope(account_id))
        .group_by(MappingVersionRow.source, MappingVersionRow.object))
    return {(source, obj): number for source, obj, number in rows}


def accounts_with_own(session: Session, source: str, obj: str) -> set[str]:
    """Accounts that saved a version of their own of ``source/obj``: edits of the
    defaults no longer reach them."""
    return set(session.scalars(select(MappingVersionRow.account_id).distinct().where(
        MappingVersionRow.account_id.is_not(None), MappingVersionRow.source == source,
        MappingVersionRow.object == obj)))


def scopes(session: Session) -> list[str | None]:
    """The defaults (None) first, then every account with a saved version of its own."""
    accounts = session.scalars(select(MappingVersionRow.account_id).distinct().where(
        MappingVersionRow.account_id.is_not(None)).order_by(MappingVersionRow.account_id))
    return [None, *accounts]


def get_row(session: Session, source: str, obj: str, version: int,
            account_id: str | None = None) -> MappingVersionRow | None:
    return session.scalars(select(MappingVersionRow).where(
        _scope(account_id), MappingVersionRow.source == source,
        MappingVersionRow.object == obj, MappingVersionRow.version == version)).one_or_none()


def list_rows(session: Session, source: str, obj: str,
              account_id: str | None = None) -> list[MappingVersionRow]:
    """Newest first."""
    return list(session.scalars(select(MappingVersionRow).where(
        _scope(account_id), MappingVersionRow.source == source,
        MappingVersionRow.object == obj).order_by(MappingVersionRow.version.desc())))


def add_row(session: Session, source: str, obj: str, yaml_text: str, author: str,
            comment: str, restored_from: int | None = None,
            account_id: str | None = None) -> MappingVersionRow:
    """Append the scope's next version number; the unique indexes turn a concurrent save
    of the same number into an IntegrityError the caller retries."""
    row = MappingVersionRow(account_id=account_id, source=source, object=obj,
                            version=latest_number(session, source, obj, account_id) + 1,
                            yaml_text=yaml_text, author=author, comment=comment,
                            restored_from=restored_from)
    session.add(row)
    session.flush()
    return row


def published_routers(session: Session, object_type: str,
                      account_id: str | None = None) -> list[RouterRow]:
    """Published routers of an object type (of one account, or of all), oldest first:
    the routers a mapped record could trigger."""
    query = select(RouterRow).where(RouterRow.object_type == object_type,
                                    RouterRow.published.is_(True))
    if account_id is not None:
        query = query.where(RouterRow.account_id == account_id)
    return list(session.scalars(query.order_by(RouterRow.created_at, RouterRow.id)))


def routers_of_type(session: Session, object_type: str,
                    account_id: str | None = None) -> list[RouterRow]:
    """Every router of an object type (of one account, or of all), published first, then
    oldest first: the routers whose triggers read that type's mapped fields."""
    query = select(RouterRow).where(RouterRow.object_type == object_type)
    if account_id is not None:
        query = query.where(RouterRow.account_id == account_id)
    return list(session.scalars(query.order_by(RouterRow.published.desc(),
                                               RouterRow.created_at, RouterRow.id)))
