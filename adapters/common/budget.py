"""Client-side call budgets that keep a CRM account under its burst limit.

HubSpot limits each portal per *rolling* 10-second window (e.g. 190 calls for apps on
Professional/Enterprise portals). A plain token bucket refilling at 19/s would allow
190 calls at once and 19/s after, i.e. up to ~360 in some 10-second window, so the default
budget is a sliding-window log: a call may start only when fewer than ``max_calls`` started
in the last ``window`` seconds. Exact, and small (one timestamp per call in the window).

``CallBudget`` is the interface; a Redis-backed implementation shared by several workers
for one portal can replace :class:`SlidingWindowBudget` without touching the client.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from connector.core.errors import RateLimited

#: The share of a limit the CRM announces that a learning budget uses: the rest absorbs
#: calls another app or process makes on the same account and clock differences.
SAFETY_MARGIN = 0.9


def learned_limit(limit: int, window: float, *, ceiling: int, margin: float = SAFETY_MARGIN
                  ) -> tuple[int, float] | None:
    """(max calls, window) to use for an announced ``limit`` per ``window`` seconds: the
    margin applied, never above ``ceiling`` (the configured limit); None if nonsensical."""
    if limit < 1 or window <= 0:
        return None
    return max(1, min(ceiling, int(limit * margin))), window


class CallBudget(Protocol):
    def acquire(self, max_wait: float | None = None) -> None:
        """Block until one more call may start; raise RateLimited if that takes longer
        than the budget's own ``max_wait`` or the caller's, whichever is shorter."""
        ...


class LearningBudget(CallBudget, Protocol):
    def learn(self, limit: int, window: float) -> None:
        """The CRM announced ``limit`` calls per ``window`` seconds for this account."""
        ...


class UnlimitedBudget:
    """No client-side limit (tests, or when something upstream already limits)."""

    def acquire(self, max_wait: float | None = None) -> None:
        return None


class SlidingWindowBudget:
    """At most ``max_calls`` starts per rolling ``window`` seconds; thread-safe.

    ``max_calls`` is the starting value and the ceiling: :meth:`learn` lowers it to the
    limit the CRM announces (with :data:`SAFETY_MARGIN`), and raises it again, up to the
    ceiling, when the announced limit grows."""

    def __init__(
        self,
        max_calls: int = 190,
        window: float = 10.0,
        *,
        max_wait: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_calls < 1 or window <= 0:
            raise ValueError("max_calls must be >= 1 and window > 0")
        self.max_calls = self.ceiling = max_calls
        self.window = window
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def learn(self, limit: int, window: float) -> None:
        learned = learned_limit(limit, window, ceiling=self.ceiling)
        if learned is not None:
            with self._lock:
                self.max_calls, self.window = learned

    def acquire(self, max_wait: float | None = None) -> None:
        limit = self.max_wait if max_wait is None else min(self.max_wait, max_wait)
        deadline = self._clock() + limit
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and now - self._starts[0] >= self.window:
                    self._starts.popleft()
                if len(self._starts) < self.max_calls:
                    self._starts.append(now)
                    return
                wait = self.window - (now - self._starts[0])
            if now + wait > deadline:
                raise RateLimited("client-side HubSpot call budget exhausted", retry_after=wait)
            self._sleep(max(wait, 0.001))
