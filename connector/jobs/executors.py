"""Executors: who runs the handlers for claimed inbox events.

``ThreadExecutor`` (the default) runs in the serving process: one loop claims due
events in batches, groups them by kind and hands each group to its handler on a small
thread pool. A webhook that stored events calls ``notify()`` so work starts at once;
otherwise the loop wakes every ``sweep_interval_seconds``, which also picks up events
whose lease lapsed because a process died. While a batch is in flight, a partial batch
lingers up to ``batch_linger_ms`` for more events (:func:`inbox.linger_left`).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from connector.core.errors import CrmError
from connector.logs import bind_event

from . import inbox

log = logging.getLogger(__name__)

#: handler(container, events) -> {event id: error message or None}; an error that is an
#: ``inbox.Permanent`` makes a dead letter at once, a plain string is retried
Handler = Callable[[Any, Sequence[inbox.InboxEvent]], dict[str, str | None]]


def run_batch(container: Any, handlers: dict[str, Handler],
              events: Sequence[inbox.InboxEvent]) -> None:
    """Run handlers on claimed events and record each event's outcome. Shared by every
    executor, so threads and Celery process events identically."""
    from connector.service.sources import set_aside_unconnected

    events = set_aside_unconnected(container.db, events)
    groups: dict[str, list[inbox.InboxEvent]] = defaultdict(list)
    for event in events:
        groups[event.kind].append(event)
    for kind, group in groups.items():
        handler = handlers.get(kind)
        if handler is None:
            for event in group:
                _fail(container, event.id, f"no handler for events of kind '{kind}'",
                      retryable=False)
            continue
        try:
            with bind_event(group[0].id if len(group) == 1 else None):
                results = handler(container, group)
        except CrmError as exc:
            for event in group:
                _fail(container, event.id, str(exc), retryable=exc.retryable)
            continue
        except Exception as exc:  # noqa: BLE001 - a bug must not lose the events
            log.exception("handler for %s failed", kind)
            for event in group:
                _fail(container, event.id, f"{type(exc).__name__}: {exc}")
            continue
        done = [e.id for e in group if results.get(e.id) is None]
        inbox.complete(container.db, done)
        for event in group:
            error = results.get(event.id)
            if error is not None:
                _fail(container, event.id, error)
    for observe in container.extras.get("batch_observers", ()):
        try:
            observe(container, events)
        except Exception:  # noqa: BLE001 - observing must never fail a batch
            log.warning("batch observer failed", exc_info=True)


def _fail(container: Any, event_id: str, error: str, *, retryable: bool = True) -> None:
    with bind_event(event_id):
        status = inbox.fail(container.db, event_id, error, retryable=retryable)
        log.warning("event %s: %s", "dead letter" if status == "dead" else "will retry",
                    error[:300])


class ThreadExecutor:
    def __init__(self, container: Any, handlers: dict[str, Handler], *, threads: int = 4,
                 batch_size: int = 100, interval: float = 5.0, lease_seconds: int = 60,
                 linger: float = 0.0) -> None:
        self.container = container
        self.handlers = handlers
        self.batch_size = batch_size
        self.interval = interval
        self.lease_seconds = lease_seconds
        self.linger = linger
        self._hold = 0.0
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="connector")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._slots = threading.Semaphore(threads)
        self._loop: threading.Thread | None = None

    def start(self) -> None:
        self._loop = threading.Thread(target=self._run, name="connector-inbox", daemon=True)
        self._loop.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._loop is not None:
            self._loop.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=False)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            claimed = 0
            try:
                claimed = self._claim_and_submit()
            except Exception:  # noqa: BLE001 - keep the loop alive; the rows are safe
                log.exception("inbox loop error")
            if claimed == 0:
                self._wake.wait(min(self.interval, self._hold) if self._hold > 0
                                else self.interval)

    def _claim_and_submit(self) -> int:
        self._hold = 0.0
        if not self._slots.acquire(timeout=self.interval):
            return 0
        self._hold = inbox.linger_left(self.container.db, limit=self.batch_size,
                                       linger=self.linger, kinds=list(self.handlers))
        if self._hold > 0:
            self._slots.release()
            return 0
        events = inbox.claim(self.container.db, limit=self.batch_size,
                             lease_seconds=self.lease_seconds, kinds=list(self.handlers))
        if not events:
            self._slots.release()
            return 0

        def work() -> None:
            try:
                run_batch(self.container, self.handlers, events)
            finally:
                self._slots.release()
                self._wake.set()

        self._pool.submit(work)
        return len(events)


class InlineExecutor:
    """Processes events synchronously when asked; for tests and the CLI."""

    def __init__(self, container: Any, handlers: dict[str, Handler]) -> None:
        self.container = container
        self.handlers = handlers

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def notify(self) -> None:
        pass

    def drain(self, *, max_rounds: int = 1000) -> int:
        total = 0
        for _ in range(max_rounds):
            events = inbox.claim(self.container.db, kinds=list(self.handlers))
            if not events:
                break
            run_batch(self.container, self.handlers, events)
            total += len(events)
        return total


def default_handlers(container: Any) -> dict[str, Handler]:
    """Every handler the configured adapters provide (registered by bootstrap)."""
    return dict(container.extras.get("handlers", {}))


def build_executor(container: Any):
    config = container.config
    handlers = default_handlers(container)
    if config.executor == "inline":
        return InlineExecutor(container, handlers)
    if config.executor == "celery":
        from connector.jobs.celery_executor import CeleryExecutor  # type: ignore[import-not-found]

        return CeleryExecutor(container, handlers)
    return ThreadExecutor(container, handlers, threads=config.worker_threads,
                          interval=config.sweep_interval_seconds,
                          lease_seconds=config.lease_seconds,
                          linger=config.batch_linger_ms / 1000)
