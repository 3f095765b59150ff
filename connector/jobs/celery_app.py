"""The Celery application: broker settings and the one task that processes inbox rows.

Settings chosen so that a broker message is only a hint and the inbox row stays the truth:

* ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged after the
  batch ran; a worker killed mid-batch leaves it to be delivered again.
* ``worker_prefetch_multiplier = 1``: a worker holds one batch per slot, so a slow CRM does
  not strand queued batches behind it.
* The task is keyed by inbox row ids plus the lease token it was sent with
  (:mod:`connector.jobs.leases`), so a duplicate, late or redelivered message finds nothing
  to do; rows whose message was lost (Redis restarted empty, worker killed) come back through
  the sweep once their lease lapses.

The worker builds its container with :func:`connector.bootstrap.bootstrap` once per process
(never a Flask app) on the first task it runs.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from celery import Celery

from connector.config import Config

log = logging.getLogger(__name__)

TASK_NAME = "connector.process_events"
JOURNAL_TASK = "connector.poll_hubspot_journal"
SLA_TASK = "connector.scan_sla_clocks"
CALENDAR_TASK = "connector.refresh_calendar_feeds"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"

_process_lock = threading.Lock()
_process: dict[str, Any] = {}


def broker_url(config: Config) -> str:
    return config.celery_broker_url or config.redis_url or DEFAULT_BROKER


def make_celery(config: Config) -> Celery:
    """A Celery app for ``config``; tasks resolve their container per process."""
    app = Celery("connector", broker=broker_url(config), set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=config.celery_queue,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": max(3600, config.lease_seconds * 10)},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
    )
    app.conf.connector_config = config

    @app.task(name=TASK_NAME, bind=True, shared=False, acks_late=True,
              reject_on_worker_lost=True)
    def process_events(self, ids: list[str], token: str | None = None) -> int:
        return process(worker_container(self.app.conf.connector_config), ids, token)

    @app.task(name=JOURNAL_TASK, shared=False, ignore_result=True)
    def poll_hubspot_journal() -> int:
        return poll_journal(worker_container(app.conf.connector_config))

    @app.task(name=SLA_TASK, shared=False, ignore_result=True)
    def scan_sla_clocks() -> int:
        from connector.service.sla import scan_now

        return scan_now(worker_container(app.conf.connector_config))

    @app.task(name=CALENDAR_TASK, shared=False, ignore_result=True)
    def refresh_calendar_feeds() -> int:
        refresh = worker_container(app.conf.connector_config).extras.get("calendar_refresh")
        return len(refresh()) if refresh is not None else 0

    # run by ``celery beat`` (one per deployment; a second one is harmless for SLA scans)
    schedule = {"sla-scan": {"task": SLA_TASK, "schedule": float(config.sla_scan_seconds)}}
    if config.hubspot_ingest != "webhooks":
        schedule["hubspot-journal"] = {
            "task": JOURNAL_TASK, "schedule": float(config.hubspot_journal_poll_seconds)}
    if config.secret_key:  # calendar feeds are stored only with a secret key
        schedule["calendar-feeds"] = {
            "task": CALENDAR_TASK, "schedule": float(config.calendar_refresh_seconds)}
    app.conf.beat_schedule = schedule
    return app


def poll_journal(container: Any) -> int:
    """One journal round in a worker; how many new events it stored."""
    from connector.service.hubspot_journal import poll_safely

    poller = container.extras.get("hubspot_journal")
    if poller is None:
        return 0
    result = poll_safely(poller)
    return 0 if result is None else result.stored


def use_container(container: Any) -> None:
    """Run this process's tasks with ``container`` (tests pass one with fake handlers)."""
    with _process_lock:
        _process.update(pid=os.getpid(), container=container)


def worker_container(config: Config) -> Any:
    """This process's container, bootstrapped on first use (and again after a fork)."""
    with _process_lock:
        if _process.get("pid") != os.getpid() or _process.get("container") is None:
            from connector.bootstrap import bootstrap

            _process.update(pid=os.getpid(), container=bootstrap(config))
        return _process["container"]


def process(container: Any, ids: list[str], token: str | None) -> int:
    """Lease the rows of one message and run them through the shared processing code."""
    from . import leases
    from .executors import default_handlers, run_batch

    handlers = default_handlers(container)
    lease_seconds = container.config.lease_seconds
    events, lease = leases.take(container.db, ids, token, lease_seconds=lease_seconds,
                                kinds=list(handlers))
    if not events:
        return 0
    with leases.Heartbeat(container.db, [e.id for e in events], lease, lease_seconds):
        run_batch(container, handlers, events)
    return len(events)
