"""SQL for field-mapping versions (the rows behind ``connector.mapping.versions``)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import MappingVersionRow, RouterRow


def latest_number(session: Session, source: str, obj: str) -> int:
    """The newest saved version number, 0 when only the default file exists."""
    return session.scalar(select(func.max(MappingVersionRow.version)).where(
        MappingVersionRow.source == source, MappingVersionRow.object == obj)) or 0


def latest_numbers(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(MappingVersionRow.source, MappingVersionRow.object,
               func.max(MappingVersionRow.version))
        .group_by(MappingVersionRow.source, MappingVersionRow.object))
    return {(source, obj): number for source, obj, number in rows}


def get_row(session: Session, source: str, obj: str, version: int) -> MappingVersionRow | None:
    return session.scalars(select(MappingVersionRow).where(
        MappingVersionRow.source == source, MappingVersionRow.object == obj,
        MappingVersionRow.version == version)).one_or_none()


def list_rows(session: Session, source: str, obj: str) -> list[MappingVersionRow]:
    """Newest first."""
    return list(session.scalars(select(MappingVersionRow).where(
        MappingVersionRow.source == source, MappingVersionRow.object == obj)
        .order_by(MappingVersionRow.version.desc())))


def add_row(session: Session, source: str, obj: str, yaml_text: str, author: str,
            comment: str, restored_from: int | None = None) -> MappingVersionRow:
    """Append the next version number; the unique constraint turns a concurrent save of
    the same number into an IntegrityError the caller retries."""
    row = MappingVersionRow(source=source, object=obj,
                            version=latest_number(session, source, obj) + 1,
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


def routers_of_type(session: Session, object_type: str) -> list[RouterRow]:
    """Every router of an object type in every account, published first, then oldest
    first: the routers whose triggers read that type's mapped fields."""
    return list(session.scalars(select(RouterRow).where(RouterRow.object_type == object_type)
                                .order_by(RouterRow.published.desc(), RouterRow.created_at,
                                          RouterRow.id)))
