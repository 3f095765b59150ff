import threading

import pytest

from adapters.hubspot.budget import SlidingWindowBudget
from connector.core.errors import RateLimited


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_allows_max_calls_per_rolling_window_then_waits_for_the_oldest():
    t = FakeTime()
    budget = SlidingWindowBudget(3, 10.0, clock=t.clock, sleep=t.sleep)
    for at in (0.0, 4.0, 6.0):
        t.now = at
        budget.acquire()
    assert t.slept == []
    t.now = 7.0
    budget.acquire()  # must wait until the call at 0.0 leaves the window
    assert t.slept == [pytest.approx(3.0)] and t.now == pytest.approx(10.0)


def test_never_more_than_max_in_any_window():
    t = FakeTime()
    budget = SlidingWindowBudget(5, 1.0, clock=t.clock, sleep=t.sleep)
    starts = []
    for _ in range(23):
        budget.acquire()
        starts.append(t.now)
    for s in starts:
        assert sum(1 for x in starts if s <= x < s + 1.0) <= 5


def test_gives_up_after_max_wait():
    t = FakeTime()
    budget = SlidingWindowBudget(1, 10.0, max_wait=2.0, clock=t.clock, sleep=t.sleep)
    budget.acquire()
    with pytest.raises(RateLimited) as info:
        budget.acquire()
    assert info.value.retry_after == pytest.approx(10.0)


def test_thread_safe_under_real_clock():
    budget = SlidingWindowBudget(50, 60.0, max_wait=0.0)
    errors = []

    def worker():
        for _ in range(10):
            try:
                budget.acquire()
            except RateLimited:
                errors.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(errors) == 80 - 50


def test_the_callers_max_wait_caps_the_budgets_own():
    t = FakeTime()
    budget = SlidingWindowBudget(1, 10.0, max_wait=60.0, clock=t.clock, sleep=t.sleep)
    budget.acquire()
    with pytest.raises(RateLimited):
        budget.acquire(max_wait=2.0)  # the slot frees in 10 s: more than the caller has
    assert t.slept == []


def test_a_transport_call_with_a_full_budget_gives_up_within_its_total_time():
    import time

    from adapters.hubspot.auth import StaticToken
    from adapters.hubspot.transport import RetryPolicy, Transport

    budget = SlidingWindowBudget(1, 30.0, max_wait=60.0)
    budget.acquire()
    transport = Transport(token_provider=StaticToken("t"), base_url="http://127.0.0.1:9",
                          budget=budget, retry=RetryPolicy(max_attempts=3,
                                                           max_total_seconds=0.5))
    started = time.monotonic()
    with pytest.raises(RateLimited):
        transport.request("GET", "/crm/v3/owners")
    assert time.monotonic() - started < 2.0
    assert transport.calls == 0
