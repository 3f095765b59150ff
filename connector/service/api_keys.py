"""API keys with scopes: created (shown once), checked on every request, listed by
prefix and last use, revoked; and the per-key rate limit.

A key is ``ck_`` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored:
with that much entropy a slow password hash would add nothing but CPU to every request.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connector.store import api_keys_repo as repo
from connector.store.db import Database
from connector.store.models import ApiKeyRow
from connector.store.reads import detached
from connector.store.repositories import get_account

from .v1_errors import V1Error

KEY_PREFIX = "ck_"
PREFIX_LENGTH = 11  # "ck_" + 8 characters: enough to tell keys apart in a list
RESOURCES = {"leads": ("read", "write"), "reps": ("read", "write"),
             "rules": ("read", "write"), "contacts": ("read", "write"),
             "activities": ("read", "write"), "insights": ("read",),
             "notifications": ("read", "write"), "sla": ("read", "write"),
             "companies": ("read", "write"), "territories": ("read", "write"),
             "routers": ("read", "write")}
ALL = "*"
SCOPES = (ALL, *(f"{r}:{a}" for r, actions in RESOURCES.items() for a in actions))
#: last use is recorded at most once a minute per key, so reads do not all become writes
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    """Who a valid key speaks for."""

    key_id: str
    account_id: str
    prefix: str
    scopes: frozenset[str]
    account_active: bool

    def allows(self, scope: str) -> bool:
        return ALL in self.scopes or scope in self.scopes


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, deduplicated in order; ``V1Error`` 422 naming each unknown one."""
    out: list[str] = []
    bad: dict[str, str] = {}
    for index, scope in enumerate(scopes):
        if scope not in SCOPES:
            bad[f"scopes.{index}"] = f"unknown scope '{scope}', use one of {', '.join(SCOPES)}"
        elif scope not in out:
            out.append(scope)
    if not out and not bad:
        bad["scopes"] = "give at least one scope"
    if bad:
        raise V1Error(422, "The request body was invalid or contained errors.", bad)
    return out


def create_key(db: Database, account_id: str, scopes: Iterable[str],
               name: str = "") -> tuple[ApiKeyRow, str]:
    """A new key and its secret, which is never stored and cannot be shown again."""
    wanted = check_scopes(scopes)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.session() as session:
        if get_account(session, account_id) is None:
            raise V1Error(404, "Account not found")
        row = repo.add(session, ApiKeyRow(account_id=account_id, name=name[:200],
                                          prefix=secret[:PREFIX_LENGTH],
                                          key_hash=hash_key(secret), scopes=wanted))
    return row, secret


def list_keys(db: Database, account_id: str) -> list[ApiKeyRow]:
    with detached(db) as session:
        return repo.for_account(session, account_id)


def revoke_key(db: Database, account_id: str, key_id: str,
               now: datetime | None = None) -> ApiKeyRow:
    with db.session() as session:
        row = repo.get(session, account_id, key_id)
        if row is None:
            raise V1Error(404, "API key not found")
        if row.revoked_at is None:
            row.revoked_at = now or datetime.now(UTC)
        return row


def authenticate(db: Database, secret: str, now: datetime | None = None) -> Caller | None:
    """The caller of an unrevoked key, or None; records the key's last use."""
    now = now or datetime.now(UTC)
    with detached(db) as session:
        found = repo.by_hash(session, hash_key(secret))
    if found is None:
        return None
    row, active = found
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        with db.session() as session:
            repo.touch(session, row.id, now)
    return Caller(row.id, row.account_id, row.prefix, frozenset(row.scopes or ()), active)


class RateLimiter:
    """At most ``limit`` requests per key in any rolling ``window`` seconds, counted in
    this process. A sliding log (one timestamp per request, at most ``limit`` per key)
    rather than a library: the only state is a deque per key, and the clock is injected
    so tests never wait."""

    def __init__(self, limit: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key_id: str) -> None:
        """Count a request; ``V1Error`` 429 with ``retry_after`` when over the limit."""
        if self.limit <= 0:
            return
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key_id, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                wait = max(1, math.ceil(hits[0] + self.window - now))
                raise V1Error(429, f"Rate limit of {self.limit} requests per "
                                   f"{int(self.window)} seconds exceeded; retry in {wait} s",
                              retry_after=wait)
            hits.append(now)
