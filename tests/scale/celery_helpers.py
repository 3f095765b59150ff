"""A recording handler, a worker running in a thread, and inbox helpers for scale tests."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from celery.contrib.testing.worker import start_worker

from connector.jobs import inbox
from connector.jobs.celery_app import make_celery, use_container
from connector.jobs.worker import start_sweep

REDIS_BROKER = "redis://127.0.0.1:6379/0"
RABBIT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
KIND = "test.echo"


class RecordingHandler:
    """Counts how often each event (by payload ``n``) was processed."""

    def __init__(self, delay: float = 0.0) -> None:
        self.seen: Counter[int] = Counter()
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, container: Any, events: Sequence[inbox.InboxEvent]) -> dict:
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            for event in events:
                self.seen[event.payload["n"]] += 1
        return {event.id: None for event in events}


def store(db: Any, count: int, *, start: int = 0) -> int:
    return inbox.store_events(db, [
        inbox.NewEvent("test", "acct", f"e{n}", KIND, {"n": n})
        for n in range(start, start + count)])


def unique_queue() -> str:
    return f"connector-test-{uuid.uuid4().hex[:10]}"


@contextmanager
def celery_worker(container: Any, *, sweep: bool = True, concurrency: int = 2) -> Iterator[Any]:
    """A Celery worker consuming the container's queue in a thread, plus its sweep."""
    app = make_celery(container.config)
    use_container(container)
    loop = start_sweep(app, container.config) if sweep else None
    try:
        with start_worker(app, pool="threads", concurrency=concurrency,
                          perform_ping_check=False, shutdown_timeout=30,
                          queues=[container.config.celery_queue]):
            yield app
    finally:
        if loop is not None:
            loop.stop()
        try:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_delete(container.config.celery_queue)
        except Exception:  # noqa: BLE001 - cleanup only
            pass
