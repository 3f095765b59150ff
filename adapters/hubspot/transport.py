"""One HTTP call to HubSpot with budget, retries and error mapping.

Why not the SDK's transport: ``hubspot-api-client`` retries through urllib3's ``Retry``,
which by default does not retry POST (all batch endpoints are POSTs), cannot honour
HubSpot's rate-limit headers, and raises ``ApiException`` for every status. Here every
attempt passes the :class:`CallBudget`, is counted, and failures become
:mod:`connector.core.errors`:

* 429 -> retried, waiting ``Retry-After`` if sent, else a tenth of
  ``X-HubSpot-RateLimit-Interval-Milliseconds`` (one second for the 10-second window), or one
  second when ``X-HubSpot-RateLimit-Secondly-Remaining`` is 0, and at least the exponential
  backoff; a DAILY policy is not retried here (seconds cannot help).
* 5xx, timeouts, connection errors -> retried with exponential backoff and full jitter.
* 401 -> one token refresh (if the provider can) and one more try, then AuthenticationFailed.
* other 4xx -> PermanentCrmError (never retried).

Attempts and total time are bounded by :class:`RetryPolicy` (the engine and the status table
are :mod:`adapters.common.retry`, shared with the Salesforce clients); when they run out the last
``TransientCrmError``/``RateLimited`` is raised. ``max_total_seconds`` bounds the whole
call end to end: each attempt's connect and read timeouts and its wait for the call budget
are cut to the time left, and no backoff sleep runs past it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from adapters.common.deadline import ThreadDeadline
from adapters.common.retry import (
    RetryPolicy,
    call_with_retries,
    crm_error,
    error_class,
    header_number,
    parse_retry_after,
)
from adapters.hubspot.auth import TokenProvider
from adapters.hubspot.budget import CallBudget, UnlimitedBudget
from connector.core.errors import (
    AuthenticationFailed,
    CrmError,
    TransientCrmError,
)

__all__ = ["DEFAULT_API_BASE", "RetryPolicy", "Transport", "error_for", "error_message",
           "parse_retry_after",
           "retry_after_hint"]

DEFAULT_API_BASE = "https://api.hubapi.com"


def retry_after_hint(resp: requests.Response) -> float | None:
    """Seconds HubSpot asks us to wait, from Retry-After or the rate-limit headers."""
    after = parse_retry_after(resp.headers.get("Retry-After"))
    if after is not None:
        return max(after, 0.0)
    interval_ms = header_number(resp.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"))
    remaining = header_number(resp.headers.get("X-HubSpot-RateLimit-Remaining"))
    if interval_ms is not None and (remaining is None or remaining <= 0):
        return interval_ms / 1000.0 / 10.0
    if header_number(resp.headers.get("X-HubSpot-RateLimit-Secondly-Remaining")) == 0:
        return 1.0
    return None


def _error_body(resp: requests.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def error_message(body: dict[str, Any], default: str = "error") -> str:
    """HubSpot's ``message`` with the messages of its nested ``errors`` (where a portal
    validation rule names the property it requires), at most 500 characters."""
    message = str(body.get("message") or default)
    details = [str(e["message"]) for e in body.get("errors") or []
               if isinstance(e, dict) and e.get("message") and str(e["message"]) not in message]
    if details:
        message = f"{message} ({'; '.join(details[:5])})"
    return message[:500]


def error_for(resp: requests.Response) -> CrmError:
    """Translate a non-2xx HubSpot response into a CRM error (message without secrets)."""
    body = _error_body(resp)
    status = resp.status_code
    message = error_message(body, resp.reason or "HubSpot error")
    category = body.get("category") or body.get("errorType")
    if status == 429:
        policy = body.get("policyName")
        err = crm_error(error_class(status), message, retry_after=retry_after_hint(resp),
                        status=status, code=policy or category)
        if policy == "DAILY":
            err.retryable = False
        return err
    return crm_error(error_class(status), message, status=status, code=category)


class Transport:
    """Sends requests to one HubSpot base URL on behalf of one portal (or developer key)."""

    def __init__(
        self,
        *,
        token_provider: TokenProvider | None = None,
        base_url: str = DEFAULT_API_BASE,
        session: requests.Session | None = None,
        budget: CallBudget | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        default_params: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens = token_provider
        self._session = session or requests.Session()
        self._budget = budget or UnlimitedBudget()
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._params = dict(default_params or {})
        self._sleep = sleep
        self._lock = threading.Lock()
        self._deadline = ThreadDeadline()
        self.calls = 0
        self.calls_by_path: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
    ) -> requests.Response:
        """Send with retries; return the 2xx response or raise a CrmError."""
        deadline = time.monotonic() + self.retry.max_total_seconds
        deadline = min(deadline, self._deadline.value or deadline)

        return call_with_retries(
            lambda: self._attempt_with_refresh(method, path, json, params, deadline),
            self.retry, deadline=deadline, sleep=self._sleep)

    @contextmanager
    def time_limit(self, seconds: float | None = None) -> Iterator[None]:
        """Every request this thread makes inside the block ends within ``seconds`` from
        now (default: the policy's ``max_total_seconds``) - several calls, one deadline."""
        with self._deadline.within(self.retry.max_total_seconds if seconds is None
                                   else seconds):
            yield

    def _attempt_with_refresh(
        self, method: str, path: str, json: Any, params: dict[str, Any] | None,
        deadline: float,
    ) -> requests.Response:
        try:
            return self._attempt(method, path, json, params, deadline)
        except AuthenticationFailed:
            if self._tokens is None or not self._tokens.refresh():
                raise
        return self._attempt(method, path, json, params, deadline)

    def _learn_limit(self, resp: requests.Response) -> None:
        """Tell the budget the portal's real burst limit, from the headers HubSpot sends
        (190 per 10 s for private apps on Professional/Enterprise, 100 or 110 for public
        apps and Free/Starter portals)."""
        learn = getattr(self._budget, "learn", None)
        limit = header_number(resp.headers.get("X-HubSpot-RateLimit-Max"))
        interval_ms = header_number(resp.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"))
        if learn is not None and limit is not None and interval_ms is not None:
            learn(int(limit), interval_ms / 1000.0)

    def _timeout_within(self, remaining: float) -> tuple[float, float]:
        """The per-attempt (connect, read) timeout, never beyond the time left."""
        connect, read = self.timeout if isinstance(self.timeout, tuple) else (
            self.timeout, self.timeout)
        return min(connect, remaining), min(read, remaining)

    def _attempt(
        self, method: str, path: str, json: Any, params: dict[str, Any] | None,
        deadline: float,
    ) -> requests.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            err = TransientCrmError(f"HubSpot {method} {path}: no time left to try (timed out)")
            err.retryable = False  # the deadline has passed: another try cannot help
            raise err
        self._budget.acquire(max_wait=remaining)
        headers = {"Accept": "application/json"}
        if self._tokens is not None:
            headers["Authorization"] = f"Bearer {self._tokens.access_token()}"
        with self._lock:
            self.calls += 1
            self.calls_by_path[f"{method} {path}"] += 1
        remaining = max(deadline - time.monotonic(), 0.05)
        try:
            resp = self._session.request(
                method, self.base_url + path, json=json, params={**self._params, **(params or {})},
                headers=headers, timeout=self._timeout_within(remaining),
            )
        except requests.Timeout:
            raise TransientCrmError(f"HubSpot {method} {path} timed out") from None
        except requests.ConnectionError:
            raise TransientCrmError(f"HubSpot {method} {path}: connection failed") from None
        self._learn_limit(resp)
        if resp.status_code >= 400:
            raise error_for(resp)
        return resp
