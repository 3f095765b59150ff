"""Token ids (``jti``) that are no longer accepted: revoked API tokens and HubSpot install
states already used. One small table; a row is dropped once its token would have expired
anyway, so the table only holds what could still be presented."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import Database, is_unique_violation
from .models import RevokedTokenRow

API_TOKEN = "api"
INSTALL_STATE = "hubspot-install"


def _when(exp: int | float | None) -> datetime | None:
    return datetime.fromtimestamp(exp, UTC) if exp is not None else None


def _purge(session: Session, now: datetime) -> None:
    session.execute(delete(RevokedTokenRow).where(RevokedTokenRow.expires_at < now))


def revoke(db: Database, jti: str, kind: str, exp: int | float | None = None) -> bool:
    """Deny ``jti`` from now on; False when it already was."""
    return use_once(db, jti, kind, exp)


def use_once(db: Database, jti: str, kind: str, exp: int | float | None = None) -> bool:
    """Record ``jti`` as spent: True the first time, False on every later call (also from
    another process: the primary key decides)."""
    try:
        with db.session() as session:
            _purge(session, datetime.now(UTC))
            session.add(RevokedTokenRow(jti=jti, kind=kind, expires_at=_when(exp)))
            session.flush()
        return True
    except IntegrityError as exc:
        if is_unique_violation(exc):
            return False
        raise


class RevokedApiTokens:
    """The revoked API token ids, read again at most every ``max_age`` seconds: a request
    then costs a set look-up instead of a query, and a token revoked from the command line
    (another process) is refused by every process within ``max_age``."""

    def __init__(self, db: Database, max_age: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.db, self.max_age, self.clock = db, max_age, clock
        self._ids: frozenset[str] = frozenset()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def __contains__(self, jti: str) -> bool:
        now = self.clock()
        with self._lock:
            if self._read_at is None or now - self._read_at >= self.max_age:
                with self.db.read_session() as session:
                    self._ids = frozenset(session.scalars(select(RevokedTokenRow.jti).where(
                        RevokedTokenRow.kind == API_TOKEN)))
                self._read_at = now
            return jti in self._ids
