"""Which CRM portal/org belongs to which account: the SQL behind the one answer.

Every inbox event carries ``source`` and ``account_key`` (the HubSpot portal id, the
15-character Salesforce org id), never an account id. ``account_sources`` maps each
(source, account_key) to exactly one account; nothing else does (``hubspot_portals``
only holds a portal's tokens). The webhook processing asks ``account_for``, the events
API, the console and the CLI filter with ``event_scope``.

One more rule: an event keyed by an account's own id belongs to that account. The
owner write-back of ``POST /dispatch/router`` queues its retry under the account id
when the account has no HubSpot portal, and that failure must still be the account's
to see and replay. Account ids are UUIDs, so they never collide with a portal or org id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from .models import AccountRow, AccountSourceRow, InboxEventRow, utcnow


class SourceTaken(Exception):
    """The portal/org is connected to another account already."""

    def __init__(self, source: str, account_key: str, account_id: str) -> None:
        super().__init__(f"{source} {account_key} is already connected to another account")
        self.source, self.account_key, self.account_id = source, account_key, account_id


def account_for(session: Session, source: str, account_key: str) -> str | None:
    """The account that owns ``(source, account_key)``, or None when nobody does."""
    row = session.get(AccountSourceRow, (source, str(account_key)))
    if row is not None:
        return row.account_id
    if session.get(AccountRow, str(account_key)) is not None:
        return str(account_key)
    return None


def keys_for_account(session: Session, account_id: str,
                     source: str | None = None) -> list[tuple[str, str]]:
    """``(source, account_key)`` pairs of an account, oldest connection first."""
    query = select(AccountSourceRow.source, AccountSourceRow.account_key).where(
        AccountSourceRow.account_id == account_id)
    if source is not None:
        query = query.where(AccountSourceRow.source == source)
    order = (AccountSourceRow.created_at, AccountSourceRow.source, AccountSourceRow.account_key)
    return [(s, k) for s, k in session.execute(query.order_by(*order))]


def all_links(session: Session) -> list[AccountSourceRow]:
    return list(session.scalars(select(AccountSourceRow).order_by(
        AccountSourceRow.account_id, AccountSourceRow.created_at)))


def event_scope(account_id: str) -> Any:
    """A WHERE clause on ``inbox_events``: the events that belong to ``account_id``."""
    linked = exists().where(AccountSourceRow.account_id == account_id,
                            AccountSourceRow.source == InboxEventRow.source,
                            AccountSourceRow.account_key == InboxEventRow.account_key)
    return or_(InboxEventRow.account_key == account_id, linked)


def link(session: Session, account_id: str, source: str, account_key: str, *,
         move: bool = False) -> bool:
    """Connect ``(source, account_key)`` to an account; True when something changed.

    A portal/org connected to another account raises ``SourceTaken`` unless ``move``:
    taking a portal away from an account is an operator's explicit decision.
    """
    key = str(account_key)
    row = session.get(AccountSourceRow, (source, key), with_for_update=True)
    if row is None:
        session.add(AccountSourceRow(source=source, account_key=key, account_id=account_id,
                                     created_at=utcnow()))
        session.flush()
        return True
    if row.account_id == account_id:
        return False
    if not move:
        raise SourceTaken(source, key, row.account_id)
    row.account_id, row.created_at = account_id, utcnow()
    return True


def unlink(session: Session, source: str, account_key: str) -> bool:
    row = session.get(AccountSourceRow, (source, str(account_key)))
    if row is None:
        return False
    session.delete(row)
    return True
