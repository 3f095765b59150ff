"""``connector worker``: a Celery worker in this process, plus the sweep.

The pool defaults to threads: processing waits on the CRM and the database, not the CPU,
and one process per worker keeps one connection pool and one container per process and
makes a SIGKILL take the whole worker down at once (no orphaned pool children). The sweep
(:class:`connector.jobs.celery_executor.DispatchLoop`) starts when the worker is ready and
re-dispatches rows whose lease lapsed and failed rows that are due.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from connector.config import Config

from .celery_app import make_celery, worker_container
from .celery_executor import Dispatcher, DispatchLoop

log = logging.getLogger(__name__)


def worker_argv(*, queue: str, concurrency: int, pool: str, loglevel: str,
                hostname: str | None, beat: bool = False) -> list[str]:
    argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", f"--loglevel={loglevel}",
            "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if hostname:
        argv.append(f"--hostname={hostname}")
    if beat:  # the embedded beat: the schedule of ``make_celery`` (journal poller, SLA scan)
        argv.append("--beat")
    return argv


def start_sweep(app: Any, config: Config) -> DispatchLoop:
    """Start this worker's sweep with its own container."""
    from .executors import default_handlers

    container = worker_container(config)
    dispatcher = Dispatcher(container, app, list(default_handlers(container)))
    loop = DispatchLoop(dispatcher, config.sweep_interval_seconds, "connector-sweep")
    loop.start()
    return loop


def run_worker(config: Config, *, concurrency: int = 4, pool: str = "threads",
               loglevel: str = "INFO", hostname: str | None = None,
               metrics_port: int | None = None, metrics_host: str = "0.0.0.0",
               beat: bool = False) -> None:
    """Block running a worker until it is stopped (SIGTERM finishes the current batches)."""
    app = make_celery(config)
    if metrics_port:
        from connector.metrics import start_worker_metrics_server

        start_worker_metrics_server(metrics_port, metrics_host, config.metrics_token)
    sweeps: list[DispatchLoop] = []

    @signals.worker_ready.connect(weak=False)
    def _ready(sender: Any = None, **_: Any) -> None:
        sweeps.append(start_sweep(app, config))
        log.info("worker ready; sweeping every %ss", config.sweep_interval_seconds)

    try:
        app.worker_main(worker_argv(queue=config.celery_queue, concurrency=concurrency,
                                    pool=pool, loglevel=loglevel, hostname=hostname,
                                    beat=beat))
    finally:
        for loop in sweeps:
            loop.stop()
