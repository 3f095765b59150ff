"""A worker process killed with SIGKILL in the middle of a batch loses nothing: the batch
is leased, so once the lease lapses another worker's sweep runs it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from connector.bootstrap import bootstrap
from connector.config import Config
from connector.jobs import inbox
from connector.jobs.celery_app import make_celery
from connector.jobs.celery_executor import Dispatcher
from tests.support.waiting import wait_until

from .celery_helpers import (
    KIND,
    REDIS_BROKER,
    RecordingHandler,
    celery_worker,
    store,
    unique_queue,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(180)]
ROOT = Path(__file__).resolve().parents[2]


def test_sigkill_mid_batch_then_another_worker_finishes(postgres_url, tmp_path):
    queue = unique_queue()
    config = Config(database_url=postgres_url, executor="celery", celery_broker_url=REDIS_BROKER,
                    celery_queue=queue, sweep_interval_seconds=1, lease_seconds=3)
    handler = RecordingHandler()
    container = bootstrap(config, handlers={KIND: handler})
    log = tmp_path / "seen.log"
    env = {**os.environ, "DATABASE_URL": postgres_url, "CELERY_BROKER_URL": REDIS_BROKER,
           "CONNECTOR_CELERY_QUEUE": queue, "CONNECTOR_LEASE_SECONDS": "3",
           "CONNECTOR_SWEEP_SECONDS": "1", "CONNECTOR_EXECUTOR": "celery"}
    worker = subprocess.Popen([sys.executable, "-m", "tests.scale.worker_main", str(log), "30"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        store(container.db, 250)
        # two full batches go to the broker; the partial third stays in the inbox while
        # they wait, and the surviving worker's sweep dispatches it later
        assert Dispatcher(container, make_celery(config), [KIND]).dispatch_once() == 200
        assert wait_until(lambda: log.exists() and "start" in log.read_text(), 60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed_batch = {int(n) for n in log.read_text().split()[1:]}
        assert killed_batch and inbox.counts(container.db).get("done", 0) == 0

        with celery_worker(container, sweep=True):
            assert wait_until(lambda: inbox.counts(container.db).get("done") == 250, 90)
        assert sorted(handler.seen) == list(range(250))
        assert set(handler.seen.values()) == {1}
    finally:
        if worker.poll() is None:
            worker.kill()
        container.close()
