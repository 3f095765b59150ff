"""Retry policy shared by the Salesforce clients: tenacity, bounded attempts and time,
exponential backoff with full jitter, ``Retry-After`` honoured, and an optional deadline
(a transfer must reach Salesforce within 60 seconds, so its retries stop before that)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import tenacity

from adapters.common.retry import RetryPolicy as BaseRetryPolicy
from connector.core.errors import CrmError, RateLimited

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy(BaseRetryPolicy):
    #: REQUEST_LIMIT_EXCEEDED is a 24-hour org limit: wait at least this long between tries
    limit_backoff: float = 5.0


def parse_retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value not in (None, "") else None
    except ValueError:
        return None


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy, *,
                      deadline: float | None = None,
                      sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.monotonic) -> T:
    """Call ``fn`` until it returns or raises a non-retryable CrmError, within ``policy``
    and before the monotonic ``deadline``; the last error is re-raised."""

    def wait(state: tenacity.RetryCallState) -> float:
        exp = min(policy.backoff_max, policy.backoff_base * 2 ** (state.attempt_number - 1))
        seconds = random.uniform(0, exp)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            hint = exc.retry_after if exc.retry_after is not None else \
                (policy.limit_backoff if exc.status == 403 else None)
            if hint is not None:
                seconds = max(seconds, min(hint, policy.retry_after_cap))
        if deadline is not None:
            seconds = min(seconds, max(0.0, deadline - clock()))
        return seconds

    def past_deadline(state: tenacity.RetryCallState) -> bool:
        return deadline is not None and clock() >= deadline

    def retryable(exc: BaseException) -> bool:
        return isinstance(exc, CrmError) and exc.retryable

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(retryable),
        stop=tenacity.stop_after_attempt(policy.max_attempts)
        | tenacity.stop_after_delay(policy.max_total_seconds) | past_deadline,
        wait=wait, sleep=sleep, reraise=True,
    )
    return retrying(fn)


def renewing(call: Callable[[], Any], renew: Callable[[], Any]) -> Any:
    """Run ``call``; on an invalid-token error renew the token once and run it again."""
    from .errors import InvalidToken

    try:
        return call()
    except InvalidToken:
        renew()
    return call()
