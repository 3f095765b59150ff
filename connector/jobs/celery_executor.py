"""``CONNECTOR_EXECUTOR=celery``: the web side claims work and publishes it to the broker;
``connector worker`` processes it (see :mod:`connector.jobs.celery_app`).

Both sides run a :class:`Dispatcher`: the web process when a webhook ``notify()``-s it
(so work starts at once), every worker on a timer (the sweep). A dispatch leases due inbox
rows (pending, failed and due, or with a lapsed lease) and sends their ids with the lease
token. Nothing depends on the message arriving: a row whose message is lost is simply
claimed again by a later sweep when its lease lapses.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from . import inbox, leases
from .celery_app import TASK_NAME, make_celery

log = logging.getLogger(__name__)

#: A publish failure is retried this often before the rows are released for the sweep.
PUBLISH_RETRY = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5,
                 "interval_max": 2.0}


class Dispatcher:
    """Lease due inbox rows in batches and publish one task per batch."""

    def __init__(self, container: Any, celery_app: Any, kinds: list[str], *,
                 batch_size: int = 100, max_batches: int = 50, max_queued: int = 16) -> None:
        self.container = container
        self.celery_app = celery_app
        self.kinds = kinds
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.max_queued = max_queued
        self.linger = container.config.batch_linger_ms / 1000
        #: seconds until held-back rows are due for a claim (0.0: none held back)
        self.hold = 0.0

    def queued(self) -> int:
        """Messages waiting in the broker queue (0 if it cannot be asked)."""
        queue = self.container.config.celery_queue
        try:
            with self.celery_app.connection_for_write() as conn:
                return int(conn.default_channel.queue_declare(
                    queue=queue, passive=True).message_count)
        except Exception:  # noqa: BLE001 - an absent queue or a broker hiccup
            return 0

    def dispatch_once(self) -> int:
        """Publish up to ``max_batches`` batches, but only while fewer than ``max_queued``
        messages wait: rows stay unleased until a worker can start on them soon, so leases
        do not lapse in the queue and get re-dispatched over and over. A partial batch may
        linger while another is in flight, and is not published while a message already
        waits for a worker (:func:`inbox.linger_left`); ``hold`` then says how long."""
        sent = 0
        self.hold = 0.0
        db, lease_seconds = self.container.db, self.container.config.lease_seconds
        waiting = self.queued()
        room = min(self.max_batches, self.max_queued - waiting)
        for _ in range(max(room, 0)):
            self.hold = inbox.linger_left(db, limit=self.batch_size, linger=self.linger,
                                          kinds=self.kinds, queued=waiting > 0)
            if self.hold > 0:
                break
            events, lease = leases.claim_due(db, limit=self.batch_size,
                                             lease_seconds=lease_seconds, kinds=self.kinds)
            if not events:
                break
            ids = [e.id for e in events]
            try:
                self.celery_app.send_task(TASK_NAME, args=[ids, leases.token_of(lease)],
                                          queue=self.container.config.celery_queue,
                                          retry=True, retry_policy=PUBLISH_RETRY)
            except Exception as exc:  # noqa: BLE001 - the broker is down; rows stay safe
                log.warning("broker publish failed (%s); %d event(s) left for the sweep",
                            type(exc).__name__, len(ids))
                leases.release(db, ids, lease)
                break
            sent += len(ids)
            waiting += 1
        return sent


class DispatchLoop:
    """Runs a dispatcher when woken and every ``interval`` seconds, in a daemon thread."""

    def __init__(self, dispatcher: Dispatcher, interval: float, name: str) -> None:
        self.dispatcher = dispatcher
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                sent = self.dispatcher.dispatch_once()
            except Exception:  # noqa: BLE001 - keep dispatching; the rows are safe
                log.exception("dispatch error")
                sent = 0
            timeout = self.interval if sent == 0 else min(self.interval, 0.5)
            if self.dispatcher.hold > 0:
                timeout = min(timeout, self.dispatcher.hold)
            self._wake.wait(timeout)


class CeleryExecutor:
    """The web process's executor when ``CONNECTOR_EXECUTOR=celery``."""

    def __init__(self, container: Any, handlers: dict[str, Any], *,
                 celery_app: Any = None) -> None:
        self.container = container
        self.handlers = handlers
        self.celery_app = celery_app or make_celery(container.config)
        self.dispatcher = Dispatcher(container, self.celery_app, list(handlers))
        self._loop = DispatchLoop(self.dispatcher, container.config.sweep_interval_seconds,
                                  "connector-dispatch")

    def start(self) -> None:
        self._loop.start()

    def notify(self) -> None:
        self._loop.wake()

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)

    def broker_reachable(self, timeout: float = 2.0) -> bool:
        return broker_reachable(self.celery_app, timeout)


def broker_reachable(celery_app: Any, timeout: float = 2.0) -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - any failure means unreachable
        return False
