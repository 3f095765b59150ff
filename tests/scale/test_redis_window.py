"""The Redis sliding window keeps several processes together under one limit."""

from __future__ import annotations

import multiprocessing
import time
import uuid

import pytest
import redis

from adapters.common.redis_window import RedisSlidingWindow
from connector.core.errors import RateLimited, TransientCrmError

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]
URL = "redis://127.0.0.1:6379/0"


def _hammer(key: str, max_calls: int, window: float, seconds: float, out) -> None:
    budget = RedisSlidingWindow(redis.Redis.from_url(URL), key, max_calls, window)
    stamps = []
    end = time.time() + seconds
    while time.time() < end:
        budget.acquire()
        stamps.append(time.time())
    out.put(stamps)


def _max_in_any_window(stamps: list[float], width: float) -> int:
    stamps = sorted(stamps)
    best, lo = 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] >= width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_two_processes_together_stay_under_the_limit():
    key = f"test:window:{uuid.uuid4().hex}"
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(key, 20, 1.0, 3.5, out)) for _ in range(2)]
    for p in procs:
        p.start()
    stamps = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(10)
    both = stamps[0] + stamps[1]
    assert all(stamps), "both processes made calls"
    # each process alone would admit 20 per second; together they share one budget
    assert _max_in_any_window(both, 0.9) <= 20
    assert len(both) >= 60


def test_waits_for_the_oldest_call_then_refuses_past_max_wait():
    client = redis.Redis.from_url(URL)
    key = f"test:window:{uuid.uuid4().hex}"
    slept: list[float] = []
    budget = RedisSlidingWindow(client, key, 3, 5.0, max_wait=2.0, sleep=slept.append)
    for _ in range(3):
        assert budget.try_acquire() == 0.0
    assert budget.in_window() == 3
    wait = budget.try_acquire()
    assert 4.0 < wait <= 5.0
    with pytest.raises(RateLimited) as info:
        budget.acquire()
    assert info.value.retry_after > 4.0 and slept == []
    client.delete(key)


def test_keys_are_independent_per_account():
    client = redis.Redis.from_url(URL)
    base = uuid.uuid4().hex
    a = RedisSlidingWindow(client, f"test:{base}:a", 1, 5.0)
    b = RedisSlidingWindow(client, f"test:{base}:b", 1, 5.0)
    assert a.try_acquire() == 0.0 and b.try_acquire() == 0.0
    assert a.try_acquire() > 0
    client.delete(a.key, b.key)


def test_unreachable_redis_refuses_with_a_retryable_error():
    budget = RedisSlidingWindow(redis.Redis(host="127.0.0.1", port=1), "k", 5, 1.0)
    with pytest.raises(TransientCrmError) as info:
        budget.acquire()
    assert info.value.retryable
