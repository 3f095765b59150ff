"""The one short-retry engine of the CRM clients (HubSpot, Salesforce REST, the BYOC
Interaction Service): a status-to-error table, one ``Retry-After`` parser and one tenacity
policy with bounded attempts and time.

Each client still reads its vendor's error body (HubSpot's ``category``, the Interaction
Service's numeric ``code``, the REST API's ``errorCode``) and may refine the table, the way
simple-salesforce's ``exception_handler`` does with ``exc_map.get(status, GeneralError)``;
what a status means when nothing finer is known, how long to wait and when to stop are
decided here once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity

from connector.core.errors import (
    AuthenticationFailed,
    CrmError,
    PermanentCrmError,
    RateLimited,
    TransientCrmError,
)

T = TypeVar("T")

__all__ = ["STATUS_ERRORS", "RetryPolicy", "call_with_retries", "crm_error", "error_class",
           "header_number", "parse_retry_after", "rate_limit_hint"]


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``max_attempts`` tries within ``max_total_seconds``; exponential backoff with
    full jitter from ``backoff_base`` up to ``backoff_max``; a CRM's ``Retry-After`` is
    honoured up to ``retry_after_cap``. Tests use tiny waits."""

    max_attempts: int = 5
    max_total_seconds: float = 60.0
    backoff_base: float = 0.5
    backoff_max: float = 20.0
    retry_after_cap: float = 30.0


#: what an HTTP status means when the vendor's body says nothing finer; a status not
#: listed is transient from 500 up and permanent below (see :func:`error_class`)
STATUS_ERRORS: Mapping[int, type[CrmError]] = {
    401: AuthenticationFailed,
    429: RateLimited,
}


def error_class(status: int,
                exc_map: Mapping[int, type[CrmError]] = STATUS_ERRORS) -> type[CrmError]:
    """The error class for a non-2xx ``status``: ``exc_map``'s entry, else transient for a
    5xx (the vendor may answer next time) and permanent for the rest (the request itself
    must change)."""
    found = exc_map.get(status)
    if found is not None:
        return found
    return TransientCrmError if status >= 500 else PermanentCrmError


def crm_error(cls: type[CrmError], message: str, *, status: int | None,
              code: str | None = None, retry_after: float | None = None) -> CrmError:
    """An instance of ``cls``; a :class:`RateLimited` carries the wait the vendor asked."""
    if issubclass(cls, RateLimited):
        return cls(message, retry_after=retry_after, status=status, code=code)
    return cls(message, status=status, code=code)


def header_number(value: str | None) -> float | None:
    """A numeric header's value (``Retry-After``, a rate-limit count), None when absent or
    not a number."""
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value: delta-seconds or an HTTP-date (RFC 9110
    section 10.2.3); None when absent or unreadable, never negative."""
    if value is None or not value.strip():
        return None
    seconds = header_number(value.strip())
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def rate_limit_hint(exc: BaseException) -> float | None:
    """The wait a refusal asks for: a :class:`RateLimited`'s ``retry_after``."""
    return exc.retry_after if isinstance(exc, RateLimited) else None


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, CrmError) and exc.retryable


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy, *,
                      deadline: float | None = None,
                      hint: Callable[[BaseException], float | None] = rate_limit_hint,
                      sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.monotonic) -> T:
    """Call ``fn`` until it returns or raises a non-retryable CrmError; the last error is
    re-raised.

    Between tries: exponential backoff with full jitter, at least the ``hint`` of the
    error (capped at ``policy.retry_after_cap``). Tries stop after ``policy.max_attempts``,
    or when the next wait would reach the end of ``policy.max_total_seconds`` or the
    monotonic ``deadline`` (an interactive caller's), whichever comes first: a try that
    could only start with no time left is not made."""
    end = clock() + policy.max_total_seconds
    if deadline is not None:
        end = min(end, deadline)

    def wait(state: tenacity.RetryCallState) -> float:
        exp = min(policy.backoff_max, policy.backoff_base * 2 ** (state.attempt_number - 1))
        seconds = random.uniform(0, exp)
        exc = state.outcome.exception() if state.outcome else None
        wanted = hint(exc) if exc is not None else None
        if wanted is not None:
            seconds = max(seconds, min(wanted, policy.retry_after_cap))
        return seconds

    def out_of_time(state: tenacity.RetryCallState) -> bool:
        return clock() + (state.upcoming_sleep or 0.0) >= end

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(_retryable),
        stop=tenacity.stop_after_attempt(policy.max_attempts) | out_of_time,
        wait=wait, sleep=sleep, reraise=True,
    )
    return retrying(fn)
