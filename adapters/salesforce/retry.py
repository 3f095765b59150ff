"""Salesforce's settings of the shared retry engine (:mod:`adapters.common.retry`): the
org-wide request limit's own wait, and one token renewal on an invalid session."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from adapters.common import retry as common
from adapters.common.retry import parse_retry_after
from connector.core.errors import RateLimited

__all__ = ["RetryPolicy", "call_with_retries", "parse_retry_after", "renewing"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy(common.RetryPolicy):
    #: REQUEST_LIMIT_EXCEEDED is a 24-hour org limit: wait at least this long between tries
    limit_backoff: float = 5.0


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy, *,
                      deadline: float | None = None,
                      sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.monotonic) -> T:
    """:func:`adapters.common.retry.call_with_retries`, where a 403 REQUEST_LIMIT_EXCEEDED
    without ``Retry-After`` waits at least ``policy.limit_backoff``."""

    def hint(exc: BaseException) -> float | None:
        if isinstance(exc, RateLimited) and exc.retry_after is None and exc.status == 403:
            return policy.limit_backoff
        return common.rate_limit_hint(exc)

    return common.call_with_retries(fn, policy, deadline=deadline, hint=hint, sleep=sleep,
                                    clock=clock)


def renewing(call: Callable[[], Any], renew: Callable[[], Any]) -> Any:
    """Run ``call``; on an invalid-token error renew the token once and run it again."""
    from .errors import InvalidToken

    try:
        return call()
    except InvalidToken:
        renew()
    return call()
