"""Connecting CRM portals/orgs to accounts, and what happens to events nobody owns.

The mapping lives in one table (``account_sources``, see ``connector.store.sources_repo``)
and everything registers there:

* HubSpot: the OAuth callback and ``connector hubspot connect`` (``PortalRegistry.connect``
  links the portal in the same transaction that stores its tokens);
* Salesforce: the configured org (``SALESFORCE_ORG_ID``/``BYOC_ORG_ID``) is linked to
  ``SALESFORCE_ACCOUNT_ID``, or to the only active account of a single-tenant install, at
  start and when its first webhook arrives (``register_configured_org``);
* anything else: ``connector sources link``.

An event whose portal/org is connected to no account is still stored and acknowledged (the
CRM must not resend it forever), but no account sees it and it is not processed: it goes
straight to the dead letters with the reason, where an admin token sees it, and once the
portal is connected its account can replay it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connector.store import sources_repo
from connector.store.db import Database
from connector.store.models import AccountRow

log = logging.getLogger(__name__)

#: inbox sources whose events belong to an account through ``account_sources``
SOURCES = {"hubspot": "HubSpot portal", "salesforce": "Salesforce org"}


class SourceError(Exception):
    """A link that cannot be made; the message names the field at fault."""


def normalize_key(source: str, account_key: str) -> str:
    """Salesforce ids come in 15 and 18 characters; events carry the 15-character form."""
    key = str(account_key).strip()
    return key[:15] if source == "salesforce" else key


def not_connected(source: str, account_key: str) -> str:
    return f"{SOURCES.get(source, source)} {account_key} is not connected to an account"


def link_source(db: Database, account_id: str, source: str, account_key: str, *,
                move: bool = False) -> bool:
    """Connect a portal/org to an account (the one command behind every ``link``)."""
    if source not in SOURCES:
        raise SourceError(f"Invalid source {source!r}: use one of {', '.join(SOURCES)}")
    key = normalize_key(source, account_key)
    if not key:
        raise SourceError("Missing account key: the HubSpot portal id or Salesforce org id")
    with db.session() as session:
        if session.get(AccountRow, account_id) is None:
            raise SourceError(f"Invalid account: no account with id {account_id}")
        try:
            return sources_repo.link(session, account_id, source, key, move=move)
        except sources_repo.SourceTaken as exc:
            raise SourceError(f"{SOURCES[source]} {key} is already connected to account "
                              f"{exc.account_id}; pass --move to move it") from None


def account_for(db: Database, source: str, account_key: str) -> str | None:
    with db.read_session() as session:
        return sources_repo.account_for(session, source, normalize_key(source, account_key))


def register_configured_org(db: Database, org_id: str | None,
                            configured_account: str | None) -> str | None:
    """The account of the configured Salesforce org, linking it on first use.

    The org goes to ``configured_account`` (``SALESFORCE_ACCOUNT_ID``) when that account
    exists, else to the only active account; with several accounts and none configured it
    stays unconnected. An org already linked keeps its account (an operator may have moved
    it with ``connector sources link --move``). Reads first, so the webhook path only
    writes once.
    """
    if not org_id:
        return None
    key = normalize_key("salesforce", org_id)
    with db.read_session() as session:
        owner = sources_repo.account_for(session, "salesforce", key)
        if owner is not None:
            return owner
        if configured_account:
            candidate = configured_account \
                if session.get(AccountRow, configured_account) is not None else None
        else:
            ids = list(session.scalars(select(AccountRow.id).where(
                AccountRow.active.is_(True)).limit(2)))
            candidate = ids[0] if len(ids) == 1 else None
    if candidate is None:
        return None
    try:
        with db.session() as session:
            owner = sources_repo.account_for(session, "salesforce", key)
            if owner is None:
                sources_repo.link(session, candidate, "salesforce", key)
                log.info("Salesforce org %s connected to account %s", key, candidate)
                owner = candidate
    except IntegrityError:  # another process linked it at the same moment
        return account_for(db, "salesforce", key)
    return owner


def set_aside_unconnected(db: Database, events: Sequence[Any]) -> list[Any]:
    """Dead-letter the claimed events whose portal/org no account owns; return the rest."""
    keys = {(e.source, e.account_key) for e in events if e.source in SOURCES}
    if not keys:
        return list(events)
    with db.read_session() as session:
        orphans = {k for k in keys if sources_repo.account_for(session, *k) is None}
    if not orphans:
        return list(events)
    from connector.jobs import inbox

    kept = []
    for event in events:
        if (event.source, event.account_key) in orphans:
            reason = not_connected(event.source, event.account_key)
            log.warning("event %s set aside: %s", event.id, reason)
            inbox.fail(db, event.id, reason, retryable=False)
        else:
            kept.append(event)
    return kept
