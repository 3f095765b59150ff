"""The optional check of an Outbound Message's session with Salesforce
(``SALESFORCE_OUTBOUND_VERIFY_SESSION=true``).

With "Send Session ID" checked in the Outbound Message definition, each message carries a
``SessionId`` of the org and its ``EnterpriseUrl``. Only Salesforce can issue a session of
the org, so asking the org who it is with that session proves the message came from it,
on top of the endpoint URL's secret (which leaks wherever a URL is logged). The call is
the REST API's ``GET /services/data/vXX.X/query?q=SELECT Id FROM Organization``: the
cheapest documented call that answers with the org id, and the same query through
simple-salesforce (``Salesforce(instance_url=..., session_id=...)``). A session Salesforce
does not know gets ``401 INVALID_SESSION_ID``.

What keeps the acknowledgement fast and the connector safe:

* the call goes only to the host of ``EnterpriseUrl`` when that host is Salesforce's
  (``*.salesforce.com``, ``*.salesforce.mil``, over https on the default port) or is the
  configured ``SALESFORCE_INSTANCE_URL``; any other host is refused without a call, so a
  message cannot make the connector reach an address of the sender's choosing. Redirects
  are not followed, for the same reason;
* a session the org confirmed is remembered for ``ttl`` seconds under the hash of its id
  (never the id itself), in a bounded, least-recently-used map: the next messages of the
  same session make no call;
* the call has a short timeout; when Salesforce cannot be reached the message is refused
  with a fault Salesforce retries (it retries an Outbound Message for 24 hours), so
  nothing is accepted unchecked and nothing is lost;
* calls are bounded: a few at a time and a budget per minute. Messages sent with one
  session need one call per ``ttl``; messages made up with a leaked URL secret and a new
  session each would otherwise hold request threads and spend the org's API requests.
  Beyond the bound a message gets the same retried fault.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)

API_VERSION = "61.0"
ORG_QUERY = "SELECT Id FROM Organization"
#: the domains Salesforce serves its API from (My Domain, instances, Government Cloud)
SALESFORCE_DOMAINS = (".salesforce.com", ".salesforce.mil")
DEFAULT_TTL_SECONDS = 900.0
DEFAULT_MAX_ENTRIES = 4096
#: (connect, read) seconds: Salesforce waits for the Ack, and retries if it is slow
DEFAULT_TIMEOUT = (2.0, 3.0)
MAX_ANSWER_BYTES = 64 * 1024
DEFAULT_MAX_IN_FLIGHT = 4
DEFAULT_CALLS_PER_MINUTE = 60
_HOST = re.compile(r"[a-z0-9.-]+")


class SessionRefused(Exception):
    """The message's session does not prove it comes from the org (answer 401)."""


class SalesforceUnavailable(Exception):
    """Salesforce could not be asked now (answer a fault Salesforce retries)."""


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(host) or \
            parts.username is not None or parts.password is not None:
        return None
    return parts.scheme, host, port


def session_base_url(enterprise_url: str | None, instance_url: str | None) -> str:
    """``https://host`` of ``enterprise_url`` when the connector may call it; raises
    SessionRefused (naming the field, not echoing the value) otherwise."""
    origin = _origin(enterprise_url or "")
    if origin is None:
        raise SessionRefused("EnterpriseUrl is missing or is not a URL")
    scheme, host, port = origin
    configured = _origin(instance_url) if instance_url else None
    if configured is not None and origin == configured:
        return f"{scheme}://{host}" + (f":{port}" if port is not None else "")
    if scheme == "https" and port in (None, 443) and host.endswith(SALESFORCE_DOMAINS):
        return f"https://{host}"
    raise SessionRefused("EnterpriseUrl is not a Salesforce domain nor "
                         "SALESFORCE_INSTANCE_URL: the session is not checked there")


class SessionVerifier:
    """Confirms that an Outbound Message's session belongs to the org, remembering each
    confirmed session (by hash) for ``ttl`` seconds. Thread-safe."""

    def __init__(self, instance_url: str | None = None, *,
                 http: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 ttl: float = DEFAULT_TTL_SECONDS, max_entries: int = DEFAULT_MAX_ENTRIES,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
                 calls_per_minute: int = DEFAULT_CALLS_PER_MINUTE) -> None:
        self.instance_url = instance_url
        self.http = http or requests.Session()
        self.clock, self.ttl, self.max_entries, self.timeout = clock, ttl, max_entries, timeout
        self.calls_per_minute = calls_per_minute
        self._confirmed: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        self._in_flight = threading.BoundedSemaphore(max_in_flight)
        self._recent_calls: deque[float] = deque()
        self.calls = 0

    def __len__(self) -> int:
        return len(self._confirmed)

    def verify(self, org_id: str, session_id: str | None, enterprise_url: str | None) -> None:
        """Return when the session is the org's; raise SessionRefused or
        SalesforceUnavailable otherwise."""
        if not session_id:
            raise SessionRefused('SessionId is required: check "Send Session ID" in the '
                                 "Outbound Message definition")
        org = org_id[:15]
        key = (org, hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest())
        now = self.clock()
        with self._lock:
            until = self._confirmed.get(key)
            if until is not None and until > now:
                self._confirmed.move_to_end(key)
                return
        base = session_base_url(enterprise_url, self.instance_url)
        self._spend_call(now)
        if not self._in_flight.acquire(blocking=False):
            raise SalesforceUnavailable("too many SessionId checks in flight; retry")
        try:
            confirmed = self._org_of(base, session_id)[:15] == org
        finally:
            self._in_flight.release()
        if not confirmed:
            raise SessionRefused("SessionId is not a session of this connector's org")
        with self._lock:
            self._confirmed[key] = now + self.ttl
            self._confirmed.move_to_end(key)
            while len(self._confirmed) > self.max_entries:
                self._confirmed.popitem(last=False)

    def _spend_call(self, now: float) -> None:
        """Count a call in the last minute's budget, or refuse it (retried later)."""
        with self._lock:
            while self._recent_calls and self._recent_calls[0] <= now - 60.0:
                self._recent_calls.popleft()
            if len(self._recent_calls) >= self.calls_per_minute:
                raise SalesforceUnavailable("too many new sessions to check this minute; "
                                            "retry")
            self._recent_calls.append(now)

    def _org_of(self, base: str, session_id: str) -> str:
        """The id of the org the session belongs to, asked of Salesforce."""
        self.calls += 1
        try:
            answer = self.http.get(f"{base}/services/data/v{API_VERSION}/query",
                                   params={"q": ORG_QUERY}, timeout=self.timeout,
                                   allow_redirects=False, stream=True,
                                   headers={"Authorization": f"Bearer {session_id}",
                                            "Accept": "application/json"})
            try:
                raw = answer.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
            finally:
                answer.close()
        except requests.RequestException as exc:
            log.warning("Outbound Message session check: %s unreachable (%s)", base,
                        type(exc).__name__)
            raise SalesforceUnavailable("Salesforce could not be reached to check the "
                                        "SessionId; retry") from None
        if answer.status_code == 401:
            raise SessionRefused("Salesforce refused the SessionId (INVALID_SESSION_ID)")
        body: Any = None
        if answer.status_code == 200 and len(raw) <= MAX_ANSWER_BYTES:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        records = body.get("records") if isinstance(body, dict) else None
        org = records[0].get("Id") if isinstance(records, list) and records and \
            isinstance(records[0], dict) else None
        if not isinstance(org, str):
            log.warning("Outbound Message session check: %s answered %s", base,
                        answer.status_code)
            raise SalesforceUnavailable("Salesforce did not confirm the SessionId; retry")
        return org
