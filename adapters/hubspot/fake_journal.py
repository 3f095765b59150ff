"""The webhooks journal of the fake HubSpot (developers.hubspot.com, "Webhook journal APIs",
version 2026-03), registered by :class:`adapters.hubspot.fake_server.FakeHubSpot`.

What it follows from HubSpot's pages:

* A client-credentials token: ``POST /oauth/v1/token`` with ``grant_type=client_credentials``,
  the app's ``client_id``/``client_secret`` and ``scope`` (``developer.webhooks_journal.read``
  is needed to read the journal). The token is refused by the CRM APIs' scope check.
* The journal keeps the app's events of the last 3 days, in order. Every entry has a UUID
  ``currentOffset``, an ``expiresAt`` and a ``url`` where its file is fetched.
* ``GET /webhooks-journal/journal/2026-03/earliest`` and ``/latest``: one entry;
  ``GET .../offset/{offset}/next``: the entry after an offset, 404 when the offset has
  expired or does not exist (as the 2027-03 beta page states it);
  ``GET .../batch/earliest/{count}``, ``.../batch/latest/{count}``,
  ``.../batch/{offset}/next/{count}`` and ``POST .../batch/read`` (``inputs``: offsets, up
  to 100; unknown ones are listed in ``errors`` and counted in ``numErrors``): batch answers
  with ``status``, ``results``, ``requestedAt``, ``startedAt``, ``completedAt``.
  Batch endpoints are exempt from the per-second and daily API limits: nothing here counts
  against the fake's rate limit. The ``journal-local`` variant takes ``installPortalId``.
* An entry's file (the ``url``) is JSON ``{"offset", "publishedAt", "journalEvents": [...]}``;
  each journal event carries the fields of the webhook event it records (``eventId``,
  ``subscriptionType``, ``objectId``, ``occurredAt``, ``portalId``, ...), see README.

Publishing is the test's side: ``journal.publish(events)`` appends entries (``per_entry``
events each, as HubSpot groups events into files). ``clock`` is injectable, so expiry is
tested by moving time rather than waiting.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from adapters.hubspot.fake_routes import Reply, _error

if TYPE_CHECKING:
    from adapters.hubspot.fake_server import FakeHubSpot

VERSION = "2026-03"
RETENTION_SECONDS = 3 * 24 * 3600
READ_SCOPE = "developer.webhooks_journal.read"
BATCH_MAX = 100
_PREFIX = re.compile(r"^/webhooks-journal/(?P<kind>journal|journal-local)/(?P<version>[\w-]+)"
                     r"/(?P<rest>.+)$")
_FILES = "/webhooks-journal-files/"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


@dataclass
class JournalEntry:
    offset: str
    published_at: float
    portal_id: int
    events: list[dict[str, Any]] = field(default_factory=list)


class FakeJournal:
    """The journal of one fake app; thread-safe."""

    def __init__(self, hs: FakeHubSpot, clock: Callable[[], float] = time.time) -> None:
        self.hs = hs
        self.clock = clock
        self.entries: list[JournalEntry] = []
        self.reads = 0  # journal API calls answered (not rate limited, so counted apart)
        self.file_reads = 0
        self.fail_next = 0  # the next N journal calls answer 503 (a HubSpot hiccup)
        self._tokens: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    # the test's side ------------------------------------------------------------------------
    def publish(self, events: Sequence[dict[str, Any]], *, per_entry: int = 100) -> list[str]:
        """Append ``events`` as entries of ``per_entry`` events; returns their offsets."""
        offsets = []
        with self._lock:
            for i in range(0, len(events), per_entry):
                chunk = [dict(e) for e in events[i:i + per_entry]]
                portal = int(chunk[0].get("portalId") or self.hs.portal_id)
                entry = JournalEntry(str(uuid.uuid4()), self.clock(), portal, chunk)
                self.entries.append(entry)
                offsets.append(entry.offset)
        return offsets

    def _live(self) -> list[JournalEntry]:
        """Entries of the last 3 days; older ones are gone for good."""
        cutoff = self.clock() - RETENTION_SECONDS
        with self._lock:
            self.entries = [e for e in self.entries if e.published_at >= cutoff]
            return list(self.entries)

    # OAuth client credentials ---------------------------------------------------------------
    def token(self, body: bytes) -> Reply | None:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
        if form.get("grant_type") != "client_credentials":
            return None  # the other grants are the fake server's
        hs = self.hs
        if form.get("client_id") != hs.client_id or form.get("client_secret") != hs.client_secret:
            return 400, {}, {"status": "BAD_CLIENT_ID", "message": "missing or unknown client id",
                             "correlationId": str(uuid.uuid4())}
        scopes = frozenset((form.get("scope") or "").split())
        access = f"cc-{uuid.uuid4()}"
        with self._lock:
            self._tokens[access] = (self.clock() + hs.token_ttl, scopes)
        hs.calls["POST /oauth/v1/token (client_credentials)"] += 1
        return 200, {}, {"token_type": "bearer", "access_token": access,
                         "expires_in": hs.token_ttl}

    def _check(self, headers: Mapping[str, str]) -> Reply | None:
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        with self._lock:
            known = self._tokens.get(token)
        if known is None:
            return _error(401, "Authentication credentials not found. The webhooks journal "
                          "needs a client credentials token.", "INVALID_AUTHENTICATION")
        if known[0] <= self.clock():
            return _error(401, "The OAuth token used to make this call expired.",
                          "EXPIRED_AUTHENTICATION")
        if READ_SCOPE not in known[1]:
            return _error(403, "This app hasn't been granted all required scopes to make this "
                          "call.", "MISSING_SCOPES",
                          errors=[{"message": "One or more of the following scopes are "
                                   "required.", "context": {"requiredGranularScopes":
                                                            [READ_SCOPE]}}])
        return None

    # reads ----------------------------------------------------------------------------------
    def _result(self, entry: JournalEntry) -> dict[str, Any]:
        return {"currentOffset": entry.offset,
                "expiresAt": _iso(entry.published_at + RETENTION_SECONDS),
                "url": f"{self.hs.url}{_FILES}{entry.offset}"}

    def _batch(self, entries: Sequence[JournalEntry], started: float,
               errors: list[dict[str, Any]] | None = None) -> Reply:
        body: dict[str, Any] = {"status": "COMPLETE",
                                "results": [self._result(e) for e in entries],
                                "requestedAt": _iso(started), "startedAt": _iso(started),
                                "completedAt": _iso(time.time()), "links": {}}
        if errors:
            body.update(errors=errors, numErrors=len(errors))
        return (207 if errors else 200), {}, body

    def file(self, offset: str) -> Reply:
        """The file behind an entry's ``url`` (a signed storage URL at HubSpot: no token)."""
        entry = next((e for e in self._live() if e.offset == offset), None)
        if entry is None:
            return 404, {}, {"message": "The specified key does not exist."}
        with self._lock:
            self.file_reads += 1
        return 200, {}, {"offset": entry.offset, "publishedAt": _iso(entry.published_at),
                         "journalEvents": entry.events}

    def route(self, method: str, path: str, query: dict[str, list[str]],
              headers: Mapping[str, str], body: bytes) -> Reply | None:
        if method == "POST" and path == "/oauth/v1/token":
            return self.token(body)
        if method == "GET" and path.startswith(_FILES):
            return self.file(path[len(_FILES):])
        match = _PREFIX.match(path)
        if match is None:
            return None
        if match["version"] != VERSION:
            return _error(404, f"No route for {method} {path}", "OBJECT_NOT_FOUND")
        if (denied := self._check(headers)) is not None:
            return denied
        with self._lock:
            self.reads += 1
            failing = self.fail_next > 0
            if failing:
                self.fail_next -= 1
        self.hs.calls[f"{method} /webhooks-journal/{match['kind']}/{{version}}/..."] += 1
        if failing:
            return _error(503, "Service unavailable", "INTERNAL_ERROR")
        started = time.time()
        entries = self._live()
        if match["kind"] == "journal-local" and query.get("installPortalId"):
            portal = query["installPortalId"][0]
            entries = [e for e in entries if str(e.portal_id) == portal]
        return self._read(method, match["rest"], entries, body, started)

    def _read(self, method: str, rest: str, entries: list[JournalEntry], body: bytes,
              started: float) -> Reply:
        parts = rest.strip("/").split("/")
        if method == "GET" and parts in (["earliest"], ["latest"]):
            if not entries:
                return _error(404, "The journal has no entries", "OBJECT_NOT_FOUND")
            return 200, {}, self._result(entries[0 if parts[0] == "earliest" else -1])
        if method == "GET" and len(parts) == 3 and parts[0] == "offset" and parts[2] == "next":
            index = self._index(entries, parts[1])
            if index is None:
                return _expired(parts[1])
            if index + 1 >= len(entries):
                return 204, {}, None
            return 200, {}, self._result(entries[index + 1])
        if method == "GET" and parts[0] == "batch" and len(parts) in (3, 4):
            count = _count(parts[-1])
            if count is None:
                return _error(400, f"Invalid count '{parts[-1]}': an integer of at least 1",
                              "VALIDATION_ERROR")
            count = min(count, BATCH_MAX)
            if parts[1:3] == ["earliest", parts[-1]] and len(parts) == 3:
                return self._batch(entries[:count], started)
            if parts[1:3] == ["latest", parts[-1]] and len(parts) == 3:
                return self._batch(entries[-count:], started)
            if len(parts) == 4 and parts[2] == "next":
                index = self._index(entries, parts[1])
                if index is None:
                    return _expired(parts[1])
                return self._batch(entries[index + 1:index + 1 + count], started)
        if method == "POST" and parts == ["batch", "read"]:
            return self._batch_read(entries, body, started)
        return _error(404, f"No route for {method} /webhooks-journal/.../{rest}",
                      "OBJECT_NOT_FOUND")

    def _batch_read(self, entries: list[JournalEntry], body: bytes, started: float) -> Reply:
        import json

        try:
            inputs = json.loads(body or b"{}").get("inputs")
        except (ValueError, AttributeError):
            inputs = None
        if not isinstance(inputs, list) or len(inputs) > BATCH_MAX:
            return _error(400, "'inputs' must be a list of at most 100 offsets",
                          "VALIDATION_ERROR")
        for offset in inputs:
            try:
                uuid.UUID(str(offset))
            except ValueError:
                return _error(400, f"Invalid offset '{str(offset)[:64]}': not a UUID",
                              "VALIDATION_ERROR")
        by_offset = {e.offset: e for e in entries}
        found = [by_offset[o] for o in inputs if o in by_offset]
        errors = [{"status": "error", "category": "OBJECT_NOT_FOUND",
                   "message": "No journal entry for this offset",
                   "context": {"offset": [o]}} for o in inputs if o not in by_offset]
        return self._batch(found, started, errors)

    @staticmethod
    def _index(entries: list[JournalEntry], offset: str) -> int | None:
        return next((i for i, e in enumerate(entries) if e.offset == offset), None)


def _count(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and int(raw) >= 1 else None


def _expired(offset: str) -> Reply:
    return _error(404, f"The offset {offset[:64]} has expired or does not exist",
                  "OBJECT_NOT_FOUND")
