"""Reps' calendar feeds: the address stored encrypted, refreshed with conditional
requests, the last good copy kept when a refresh fails, and the status the console and
the API show ("failing, using last good copy").

A feed address is a secret (whoever has it reads the calendar): it is encrypted with
``CONNECTOR_SECRET_KEY`` before it reaches the database, and appears in no response, log
line or error. An address whose host resolves to a private, loopback, link-local or
otherwise non-public network is refused (the server would fetch it from inside the
network it runs in) unless ``CALENDAR_ALLOW_PRIVATE_FEEDS`` is set; the check runs when
the address is given and again before every fetch, as DNS answers change.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import select, update

from connector.core.calendar import CalendarEvent, absences, merged
from connector.store.crypto import TokenCipher
from connector.store.db import Database
from connector.store.models import AccountRow, CalendarFeedRow, RepRow
from connector.store.reads import detached

from .v1_errors import V1Error, invalid

CIPHER_PURPOSE = b"calendar-feeds"
SCHEMES = ("https", "http", "webcal")


class Fetcher(Protocol):
    """``adapters.calendars.feed.FeedFetcher``."""

    def fetch(self, url: str, last_good: Any = None) -> Any: ...


Resolver = Callable[[str], Iterable[str]]


def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to (every family)."""
    return [info[4][0] for info in socket.getaddrinfo(host, None)]


def address_problem(url: str, *, allow_private: bool, resolver: Resolver = resolve
                    ) -> str | None:
    """Why the feed address cannot be used, without repeating it; None when it can."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "is not a web address"
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return "must be an https://, http:// or webcal:// address"
    if allow_private:
        return None
    try:
        addresses = list(resolver(parts.hostname))
    except (OSError, UnicodeError):
        return "its host name does not resolve"
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if not address.is_global:
            return "its host is on a private, loopback or reserved network"
    return None if addresses else "its host name does not resolve"


def cipher(secret_key: str | None) -> TokenCipher:
    if not secret_key:
        raise V1Error(503, "Calendar feeds need CONNECTOR_SECRET_KEY to encrypt their "
                           "addresses")
    return TokenCipher(secret_key, CIPHER_PURPOSE)


@dataclass(frozen=True)
class FeedStatus:
    rep_id: str
    state: str
    fetched_at: datetime | None
    failed_at: datetime | None
    last_error: str | None
    has_copy: bool


def _status(row: CalendarFeedRow) -> FeedStatus:
    if row.last_error and row.body:
        state = "failing, using last good copy"
    elif row.last_error:
        state = "failing, no copy yet"
    elif row.body:
        state = "ok"
    else:
        state = "not fetched yet"
    return FeedStatus(row.rep_id, state, row.fetched_at, row.failed_at, row.last_error,
                      row.body is not None)


def _bump(session, account_id: str) -> None:
    """The account's reps changed for the routers (their cached reps are stale)."""
    session.execute(update(AccountRow).where(AccountRow.id == account_id)
                    .values(routing_version=AccountRow.routing_version + 1))


def _rep(session, account_id: str, rep_id: str) -> RepRow:
    rep = session.get(RepRow, rep_id)
    if rep is None or rep.account_id != account_id:
        raise V1Error(404, "Rep not found")
    return rep


def set_feed(db: Database, box: TokenCipher, account_id: str, rep_id: str, url: str, *,
             allow_private: bool, resolver: Resolver = resolve) -> FeedStatus:
    """Give a rep a feed (replacing any other: the copy and its validators go too)."""
    problem = address_problem(url, allow_private=allow_private, resolver=resolver)
    if problem:
        raise invalid("url", problem)
    with db.session() as session:
        _rep(session, account_id, rep_id)
        row = session.get(CalendarFeedRow, rep_id) or CalendarFeedRow(
            rep_id=rep_id, account_id=account_id)
        row.url_encrypted = box.encrypt(url.strip())
        row.etag = row.last_modified = row.body = row.last_error = None
        row.fetched_at = row.failed_at = None
        if row.absences:
            _bump(session, account_id)
        row.absences = []
        session.add(row)
        session.flush()
        return _status(row)


def get_status(db: Database, account_id: str, rep_id: str) -> FeedStatus:
    with detached(db) as session:
        _rep(session, account_id, rep_id)
        row = session.get(CalendarFeedRow, rep_id)
        if row is None:
            raise V1Error(404, "The rep has no calendar feed")
        return _status(row)


def feed_status(db: Database, rep_id: str) -> FeedStatus | None:
    """The rep's feed status for the console, or None without a feed."""
    with detached(db) as session:
        row = session.get(CalendarFeedRow, rep_id)
        return _status(row) if row is not None else None


def delete_feed(db: Database, account_id: str, rep_id: str) -> None:
    with db.session() as session:
        _rep(session, account_id, rep_id)
        row = session.get(CalendarFeedRow, rep_id)
        if row is None:
            raise V1Error(404, "The rep has no calendar feed")
        if row.absences:
            _bump(session, account_id)
        session.delete(row)


#: how far ahead a refresh works out a feed's out-of-office periods (and a day back)
HORIZON = timedelta(days=60)
#: events of a copy between two instants: ``adapters.calendars.ics.events_between``
EventsBetween = Callable[[str, datetime, datetime], Iterable[CalendarEvent]]


def _absences(events_between: EventsBetween, body: str | None, tz: str,
              now: datetime) -> list[dict[str, str]]:
    if body is None:
        return []
    try:
        events = events_between(body, now - timedelta(days=1), now + HORIZON)
    except ValueError:  # a copy that no longer parses: no absences, the error says why
        return []
    return [{"start": p.start.isoformat(), "end": p.end.isoformat()}
            for p in merged([a.period for a in absences(events, tz)])]


def refresh_all(db: Database, box: TokenCipher, fetcher: Fetcher, copy_type: Any,
                events_between: EventsBetween, *, now: datetime, allow_private: bool,
                resolver: Resolver = resolve) -> list[FeedStatus]:
    """Fetch every feed once, conditionally; keep the last good copy on a failure; work
    out the copy's out-of-office periods for the coming weeks. A change to those bumps
    the account's routing version, so routers see it at their next decision.
    ``copy_type`` builds the fetcher's copy of the stored one (``FeedCopy``)."""
    with db.session() as session:
        rows = list(session.query(CalendarFeedRow).order_by(CalendarFeedRow.rep_id))
        zones = dict(session.execute(select(RepRow.id, RepRow.timezone).where(
            RepRow.id.in_([r.rep_id for r in rows]))).all()) if rows else {}
        out = []
        for row in rows:
            out.append(_refresh_one(row, box, fetcher, copy_type, now, allow_private,
                                    resolver))
            found = _absences(events_between, row.body, zones.get(row.rep_id) or "UTC", now)
            if found != (row.absences or []):
                row.absences = found
                _bump(session, row.account_id)
        return out


def _refresh_one(row: CalendarFeedRow, box: TokenCipher, fetcher: Fetcher, copy_type: Any,
                 now: datetime, allow_private: bool, resolver: Resolver) -> FeedStatus:
    """One conditional fetch of the feed; its status after it."""
    last = copy_type(row.body.encode(), row.etag, row.last_modified,
                     row.fetched_at) if row.body is not None else None
    url = box.decrypt(row.url_encrypted)
    problem = address_problem(url, allow_private=allow_private, resolver=resolver)
    if problem:
        row.last_error, row.failed_at = f"the feed address {problem}", now
        return _status(row)
    result = fetcher.fetch(url, last)
    if result.error is None:
        copy = result.copy
        row.body = copy.body.decode("utf-8", "replace")
        row.etag, row.last_modified = copy.etag, copy.last_modified
        row.fetched_at, row.last_error = now, None
    else:
        row.last_error, row.failed_at = result.error, now
    return _status(row)
