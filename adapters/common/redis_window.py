"""A sliding-window call limit shared by every process that talks to one CRM account.

Each process keeping its own window would let N workers together make N times the CRM's
limit. Here the window is a Redis sorted set per key (one per HubSpot portal, one per
Salesforce org): a Lua script, atomic on the server, drops starts older than the window,
and admits a call only while fewer than ``max_calls`` remain, using the Redis server's clock
so that processes on different hosts agree. A refused caller learns how long until the
oldest start leaves the window and sleeps that long.

The limit the CRM announces (``learn``: HubSpot's ``X-HubSpot-RateLimit-Max`` and
``-Interval-Milliseconds``) is kept next to the window in Redis, so the process that saw it
slows every process down at once; ``max_calls`` stays the ceiling.

When Redis cannot be reached the call is refused with a retryable error rather than let
through: exceeding the CRM's limit costs more (429 storms, daily caps) than waiting.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from adapters.common.budget import learned_limit
from connector.core.errors import RateLimited, TransientCrmError

_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local learned = redis.call('HMGET', KEYS[2], 'limit', 'window')
if learned[1] and learned[2] then
  limit = math.min(limit, tonumber(learned[1]))
  window = tonumber(learned[2])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
"""


class RedisSlidingWindow:
    """At most ``max_calls`` starts per rolling ``window`` seconds for ``key``, across
    every process using the same Redis. Implements the adapters' ``CallBudget``."""

    def __init__(self, redis_client: Any, key: str, max_calls: int, window: float, *,
                 max_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep,
                 what: str = "CRM") -> None:
        if max_calls < 1 or window <= 0:
            raise ValueError("max_calls must be >= 1 and window > 0")
        self.redis = redis_client
        self.key = key
        self.max_calls = max_calls
        self.window = window
        self.max_wait = max_wait
        self.what = what
        self._sleep = sleep
        self.limit_key = f"{key}:limit"
        self._learned: tuple[int, float] | None = None
        self._script = redis_client.register_script(_ADMIT)

    def __repr__(self) -> str:
        return f"RedisSlidingWindow(key={self.key!r}, {self.max_calls}/{self.window}s)"

    def try_acquire(self) -> float:
        """Take a slot now (returns 0.0) or return the seconds until one frees up."""
        try:
            wait_us = int(self._script(keys=[self.key, self.limit_key], args=[
                int(self.window * 1_000_000), self.max_calls, uuid.uuid4().hex]))
        except Exception as exc:  # noqa: BLE001 - redis-py raises many connection errors
            raise TransientCrmError(f"{self.what} call budget unavailable: "
                                    f"{type(exc).__name__}") from None
        return wait_us / 1_000_000

    def learn(self, limit: int, window: float) -> None:
        """Share the announced limit (margin applied, capped by ``max_calls``) for a day."""
        learned = learned_limit(limit, window, ceiling=self.max_calls)
        if learned is None:
            return
        if learned == self._learned:
            return  # already shared: one Redis write per change, not per call
        calls, seconds = learned
        try:
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(self.limit_key, mapping={"limit": calls,
                                                   "window": int(seconds * 1_000_000)})
                pipe.expire(self.limit_key, 86400)
                pipe.execute()
        except Exception:  # noqa: BLE001 - the next response teaches it again
            return
        self._learned = learned

    def acquire(self, max_wait: float | None = None) -> None:
        """Block until one more call may start; raise RateLimited if that takes longer than
        ``max_wait`` (the caller's, when shorter than the budget's own)."""
        limit = self.max_wait if max_wait is None else min(self.max_wait, max_wait)
        deadline = time.monotonic() + limit
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            if time.monotonic() + wait > deadline:
                raise RateLimited(f"client-side {self.what} call budget exhausted",
                                  retry_after=wait)
            self._sleep(wait)

    def in_window(self) -> int:
        """Starts currently counted in the window (for metrics and tests)."""
        now = self.redis.time()
        now_us = now[0] * 1_000_000 + now[1]
        return int(self.redis.zcount(self.key, now_us - int(self.window * 1_000_000), "+inf"))
