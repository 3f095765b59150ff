"""The shared retry engine of the CRM clients: status table, Retry-After, stop rules."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from adapters.common.retry import (
    RetryPolicy,
    call_with_retries,
    crm_error,
    error_class,
    parse_retry_after,
)
from adapters.salesforce.errors import InvalidToken, interaction_error, rest_error
from connector.core.errors import (
    AuthenticationFailed,
    PermanentCrmError,
    RateLimited,
    TransientCrmError,
)


def test_a_status_maps_through_the_table_then_by_its_class():
    assert error_class(401) is AuthenticationFailed
    assert error_class(429) is RateLimited
    assert error_class(503) is TransientCrmError
    assert error_class(404) is PermanentCrmError
    assert error_class(401, {401: InvalidToken}) is InvalidToken


def test_both_salesforce_apis_read_the_same_table():
    assert isinstance(rest_error(401, [], "query"), InvalidToken)
    assert isinstance(interaction_error(401, {}, "POST v1/route"), InvalidToken)
    limited = interaction_error(429, {}, "POST v1/route", retry_after=4.0)
    assert isinstance(limited, RateLimited) and limited.retry_after == 4.0


def test_crm_error_gives_a_rate_limit_its_wait():
    err = crm_error(RateLimited, "slow down", status=429, retry_after=2.5)
    assert isinstance(err, RateLimited) and err.retry_after == 2.5
    assert crm_error(PermanentCrmError, "no", status=400, code="X").code == "X"


def test_retry_after_reads_seconds_and_http_dates():
    now = 1_800_000_000.0
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after(formatdate(now + 7, usegmt=True), now=now) == pytest.approx(7.0)
    assert parse_retry_after("-4", now=now) == 0.0
    assert parse_retry_after("later", now=now) is None
    assert parse_retry_after(None) is None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def failing(errors: list[Exception]):
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    return fn, calls


def test_retryable_errors_are_retried_with_the_wait_the_crm_asked():
    clock = Clock()
    fn, calls = failing([RateLimited("slow", retry_after=3.0, status=429),
                         TransientCrmError("5xx", status=503)])
    policy = RetryPolicy(max_attempts=5, backoff_base=0.0)
    assert call_with_retries(fn, policy, sleep=clock.sleep, clock=clock) == "ok"
    assert len(calls) == 3 and clock.slept == [3.0, 0.0]


def test_a_permanent_error_is_not_retried():
    clock = Clock()
    fn, calls = failing([PermanentCrmError("bad", status=400)])
    with pytest.raises(PermanentCrmError):
        call_with_retries(fn, RetryPolicy(), sleep=clock.sleep, clock=clock)
    assert len(calls) == 1 and clock.slept == []


def test_no_try_starts_when_its_wait_reaches_the_deadline():
    clock = Clock()
    fn, calls = failing([RateLimited("slow", retry_after=10.0, status=429)] * 3)
    with pytest.raises(RateLimited):
        call_with_retries(fn, RetryPolicy(backoff_base=0.0), deadline=clock.now + 5.0,
                          sleep=clock.sleep, clock=clock)
    assert len(calls) == 1 and clock.slept == []


def test_attempts_are_bounded():
    clock = Clock()
    fn, calls = failing([TransientCrmError("5xx", status=502)] * 9)
    with pytest.raises(TransientCrmError):
        call_with_retries(fn, RetryPolicy(max_attempts=3, backoff_base=0.0),
                          sleep=clock.sleep, clock=clock)
    assert len(calls) == 3
