"""Sign-in state, CSRF tokens and sign-in throttling for the console.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax) holding only the admin's id
and a random CSRF token; every POST must echo that token in the ``csrf_token`` form field
or the ``X-CSRF-Token`` header. The admin row is re-read on every request, so removing or
deactivating an admin ends their sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from functools import wraps

from flask import current_app, g, redirect, request, session, url_for

from connector.service.admin_users import current_admin

from ..common import container


class AdminError(Exception):
    """An error page: status and a message for the person at the screen."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def csrf_token() -> str:
    if not current_app.secret_key:
        return ""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Before every POST of the blueprint: 400 unless the session's token came back."""
    if request.method != "POST":
        return
    expected = session.get("csrf")
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise AdminError(400, "The form has expired or did not come from this console "
                              "(CSRF token missing or invalid). Reload the page and retry.")


def login_required(view: Callable) -> Callable:
    """Redirect to the sign-in page unless an active admin is signed in; sets
    ``g.admin`` and ``g.account_id`` (the only account the views may touch)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        admin_id = session.get("admin_id")
        admin = current_admin(container().db, admin_id) if admin_id else None
        if admin is None:
            session.pop("admin_id", None)
            return redirect(url_for("admin.login", next=request.full_path))
        g.admin = admin
        g.account_id = admin.account_id
        g.subject = f"admin:{admin.email}"
        return view(*args, **kwargs)

    return wrapper


class LoginThrottle:
    """At most ``limit`` failed sign-ins per email and per client address in a sliding
    ``window`` of seconds; in memory, per process (enough to slow guessing down).

    Its memory is bounded whatever is sent: keys are stored as 16-byte digests (an email
    of 500 KB costs what a short one does), a key whose failures are all older than the
    window is dropped, and past ``max_keys`` the least recently failed key goes first.
    Hand-written rather than a rate-limit library because it counts failures only, not
    requests, and must be told of a success."""

    def __init__(self, limit: int = 5, window: float = 900.0,
                 clock: Callable[[], float] = time.monotonic, *,
                 max_keys: int = 10_000) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.max_keys = max_keys
        #: digest -> failure times, least recently failed first
        self._failures: OrderedDict[bytes, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._failures)

    @staticmethod
    def _digest(key: str) -> bytes:
        return hashlib.sha256(key.encode("utf-8", "replace")).digest()[:16]

    def _recent(self, digest: bytes, now: float) -> deque[float]:
        entries = self._failures.get(digest) or deque()
        while entries and entries[0] <= now - self.window:
            entries.popleft()
        return entries

    def _expire(self, now: float) -> None:
        """Drop keys from the least recently failed end while all their failures are
        older than the window; the first recent one stops the scan."""
        while self._failures:
            digest, entries = next(iter(self._failures.items()))
            if entries and entries[-1] > now - self.window:
                break
            del self._failures[digest]

    def retry_after(self, *keys: str) -> int:
        """Seconds until another attempt is allowed for these keys (0: go ahead)."""
        now = self.clock()
        with self._lock:
            waits = [int(e[0] + self.window - now) + 1 for e in
                     (self._recent(self._digest(k), now) for k in keys)
                     if len(e) >= self.limit]
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            self._expire(now)
            for key in keys:
                digest = self._digest(key)
                entries = self._recent(digest, now)
                entries.append(now)
                while len(entries) > self.limit:  # more than the limit tells nothing new
                    entries.popleft()
                self._failures[digest] = entries
                self._failures.move_to_end(digest)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(self._digest(key), None)


def throttle() -> LoginThrottle:
    return current_app.extensions["admin_login_throttle"]


def safe_next(target: str | None) -> str:
    """Only same-site paths under /admin; anything else goes to the console's home."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return url_for("admin.home")
