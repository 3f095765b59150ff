"""Each router's settings and reps, kept in the process between dispatches.

Parsing a router's settings and loading and converting its reps costs time in proportion
to the router's size, on every dispatch; a router with 1,000 reps spent most of its
dispatch there. They change rarely, so a process keeps them, keyed by router, with the
account's ``routing_version`` they were loaded at. Every change to an account's reps or
routers (rotation state apart) adds one to that version in the same transaction (the
``before_flush`` hook below, on every session of :class:`connector.store.db.Database`),
and every dispatch reads the version from the database under the router's lock: another
process's change is seen by the next dispatch, exactly as when everything was loaded
each time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from itertools import chain

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from connector.core.model import Rep, Router

from . import repositories as repo
from .models import AccountRow, RepRow, RouterRow

#: columns of a router that routing state, not the router's definition: the dispatch
#: itself writes them, and they are read fresh under the lock every time
ROTATION_COLUMNS = frozenset({"rr_last_position", "current_weights", "updated_at"})


def _changes_routing(session: Session, row: object) -> bool:
    if isinstance(row, RepRow):
        return True
    if not isinstance(row, RouterRow):
        return False
    if row not in session.dirty:
        return True  # new or deleted
    state = inspect(row)
    return any(state.attrs[column.key].history.has_changes()
               for column in state.mapper.column_attrs if column.key not in ROTATION_COLUMNS)


def bump_routing_versions(session: Session, _flush_context, _instances) -> None:
    """``before_flush``: one more on the routing version of each account whose reps or
    routers this flush changes."""
    accounts = {row.account_id for row in chain(session.new, session.dirty, session.deleted)
                if _changes_routing(session, row) and row.account_id}
    if accounts:
        session.connection().execute(
            update(AccountRow.__table__).where(AccountRow.__table__.c.id.in_(sorted(accounts)))
            .values(routing_version=AccountRow.__table__.c.routing_version + 1))


def routing_version(session: Session, account_id: str) -> int | None:
    return session.scalar(select(AccountRow.routing_version)
                          .where(AccountRow.id == account_id))


def router_rep_ids(router: Router) -> set[str]:
    """The reps a router's decisions can name: its members and its backup user."""
    settings = router.settings
    if settings is None:
        return set()
    ids = {m.rep_id for m in settings.members}
    if settings.backup_rep_id:
        ids.add(settings.backup_rep_id)
    return ids


class RouterCache:
    """Routers (as the core's :class:`Router`) and their reps by router id, each with the
    routing version it was loaded at; the ``size`` routers used last are kept."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[int, Router, Mapping[str, Rep]]] = \
            OrderedDict()

    def load(self, session: Session, account_id: str, row: RouterRow
             ) -> tuple[Router, Mapping[str, Rep]]:
        """The router of ``row`` and its reps, as of the account's routing version now
        (call with the router row locked). The reps mapping is shared: copy it to
        change it."""
        version = routing_version(session, account_id)
        with self._lock:
            entry = self._entries.get(row.id)
            if entry is not None and version is not None and entry[0] == version:
                self._entries.move_to_end(row.id)
                return entry[1], entry[2]
        router = repo.router_to_domain(row)
        reps = repo.reps_by_id(session, account_id, router_rep_ids(router))
        if version is not None:
            with self._lock:
                self._entries[row.id] = (version, router, reps)
                self._entries.move_to_end(row.id)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return router, reps

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
