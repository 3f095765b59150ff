"""Read HubSpot's webhooks journal (version 2026-03) with a client-credentials token.

The journal holds an app's webhook events of the last 3 days. We read it in batches:
``GET /webhooks-journal/journal/2026-03/batch/earliest/{count}`` to start and
``GET .../batch/{offset}/next/{count}`` after the last offset stored. Each result names an
entry (``currentOffset``, ``expiresAt``) and the ``url`` of its file, whose
``journalEvents`` are the events. HubSpot answers 404 for an offset that has expired (or
never existed): :class:`OffsetExpired`, which the poller reports as a gap.

The token comes from ``POST /oauth/v1/token`` (``grant_type=client_credentials``, scope
``developer.webhooks_journal.read``) and is renewed a minute before it expires. Journal
reads are exempt from the per-second and daily limits, so they do not use the portal's
call budget. Retrying is the poller's business (it backs off between rounds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from adapters.hubspot.transport import DEFAULT_API_BASE, error_for
from connector.core.errors import AuthenticationFailed, CrmError, TransientCrmError

VERSION = "2026-03"
SCOPE = "developer.webhooks_journal.read"
MAX_COUNT = 100
OFFSET_EXPIRED = "OFFSET_EXPIRED"


class OffsetExpired(CrmError):
    """The stored offset is no longer in the journal (older than its 3 days)."""

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, code=OFFSET_EXPIRED, **kw)


@dataclass(frozen=True)
class JournalEntry:
    offset: str
    url: str
    expires_at: str | None


class JournalClient:
    """One app's journal (the global journal: every portal that installed the app)."""

    def __init__(self, client_id: str, client_secret: str, *,
                 base_url: str = DEFAULT_API_BASE, session: requests.Session | None = None,
                 timeout: float | tuple[float, float] = (5.0, 30.0),
                 clock: Callable[[], float] = time.time) -> None:
        if not (client_id and client_secret):
            raise ValueError("HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET are required to read "
                             "the webhooks journal")
        self.client_id = client_id
        self._secret = client_secret
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self.timeout = timeout
        self._clock = clock
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self.reads = 0  # journal API calls (file downloads are not API calls)

    def __repr__(self) -> str:
        return f"JournalClient(client_id={self.client_id!r}, <secret hidden>)"

    def _access_token(self) -> str:
        with self._lock:
            if self._token is not None and self._token[1] > self._clock():
                return self._token[0]
            resp = self._send("POST", self.base_url + "/oauth/v1/token", data={
                "grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self._secret, "scope": SCOPE})
            if resp.status_code != 200:
                raise AuthenticationFailed(
                    "HubSpot refused the client credentials for the webhooks journal: "
                    f"{_message(resp)}", status=resp.status_code)
            body = resp.json()
            ttl = float(body.get("expires_in") or 1800)
            self._token = (body["access_token"], self._clock() + max(ttl - 60, ttl / 2))
            return self._token[0]

    def _send(self, method: str, url: str, **kw: Any) -> requests.Response:
        try:
            return self._session.request(method, url, timeout=self.timeout, **kw)
        except requests.RequestException as exc:
            raise TransientCrmError(f"HubSpot journal unreachable: {type(exc).__name__}") \
                from None

    def _get(self, path: str) -> dict[str, Any]:
        for _ in range(2):  # a token refused (revoked, expired early) is renewed once
            token = self._access_token()
            resp = self._send("GET", self.base_url + path,
                              headers={"Authorization": f"Bearer {token}"})
            self.reads += 1
            if resp.status_code != 401:
                break
            with self._lock:
                self._token = None
        if resp.status_code == 404 and "/next/" in path:
            raise OffsetExpired(f"HubSpot no longer has the journal offset: {_message(resp)}",
                                status=404)
        if resp.status_code >= 400:
            raise error_for(resp)
        return resp.json() if resp.content else {}

    def earliest(self, count: int = MAX_COUNT) -> list[JournalEntry]:
        """The oldest entries still kept (an empty journal answers 404: no entries)."""
        try:
            body = self._get(f"/webhooks-journal/journal/{VERSION}/batch/earliest/"
                             f"{_count(count)}")
        except CrmError as exc:
            if exc.status == 404:
                return []
            raise
        return _entries(body)

    def after(self, offset: str, count: int = MAX_COUNT) -> list[JournalEntry]:
        """Up to ``count`` entries after ``offset``, oldest first; [] when caught up."""
        body = self._get(f"/webhooks-journal/journal/{VERSION}/batch/{offset}/next/"
                         f"{_count(count)}")
        return _entries(body)

    def events(self, entry: JournalEntry) -> list[dict[str, Any]]:
        """The events of one entry, from its file (a pre-signed URL: no token sent)."""
        resp = self._send("GET", entry.url)
        if resp.status_code >= 400:
            raise TransientCrmError(f"journal file of {entry.offset} unavailable "
                                    f"(HTTP {resp.status_code})", status=resp.status_code)
        body = resp.json()
        events = body.get("journalEvents") if isinstance(body, dict) else None
        if not isinstance(events, list):
            raise ValueError(f"journal file of {entry.offset} has no 'journalEvents' list")
        return events


def _count(count: int) -> int:
    return max(1, min(int(count), MAX_COUNT))


def _entries(body: dict[str, Any]) -> list[JournalEntry]:
    out = []
    for result in body.get("results") or []:
        if result.get("currentOffset") and result.get("url"):
            out.append(JournalEntry(str(result["currentOffset"]), str(result["url"]),
                                    result.get("expiresAt")))
    return out


def _message(resp: requests.Response) -> str:
    try:
        return str(resp.json().get("message") or resp.reason)[:300]
    except ValueError:
        return str(resp.reason)
