"""The one way tests wait for something another thread or process does: poll a condition
until it holds, bounded by a timeout, and fail naming what never happened.

A test never sleeps a fixed time hoping the work is done by then: it waits for the
condition that says so (a row's status, an owner written, a server answering)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = 30.0, what: str = "", *,
               interval: float = 0.02,
               ignore: tuple[type[BaseException], ...] = ()) -> T:
    """The first truthy value of ``condition()``, called every ``interval`` seconds for at
    most ``timeout`` seconds; AssertionError naming ``what`` when it never holds. Errors of
    the ``ignore`` types (a server not listening yet) count as "not yet"."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = condition()
        except ignore as exc:
            last, value = exc, None
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = f" (last: {last!r})" if last is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for "
                                 f"{what or condition}{detail}")
        time.sleep(interval)  # between two looks at the condition, not instead of one
