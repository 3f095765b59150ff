"""One deadline for several CRM calls of a thread (an API request waiting on a CRM)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class ThreadDeadline:
    """The monotonic time by which this thread's calls must end, while a block sets one.

    Blocks nest: the inner one never extends the outer one's deadline."""

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def value(self) -> float | None:
        return getattr(self._local, "deadline", None)

    @contextmanager
    def within(self, seconds: float) -> Iterator[None]:
        outer = self.value
        deadline = time.monotonic() + seconds
        self._local.deadline = deadline if outer is None else min(outer, deadline)
        try:
            yield
        finally:
            self._local.deadline = outer
