"""The Celery executor against real brokers (Redis and RabbitMQ) and PostgreSQL: every
stored event is processed exactly once, duplicate and stale messages do nothing, and rows
whose message was lost come back through the sweep."""

from __future__ import annotations

import pytest

from connector.bootstrap import bootstrap
from connector.config import Config
from connector.jobs import inbox, leases
from connector.jobs.celery_app import TASK_NAME, process
from connector.jobs.celery_executor import CeleryExecutor, Dispatcher
from connector.jobs.executors import build_executor
from tests.support.waiting import wait_until

from .celery_helpers import (
    KIND,
    RABBIT_BROKER,
    REDIS_BROKER,
    RecordingHandler,
    celery_worker,
    store,
    unique_queue,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq,
              pytest.mark.timeout(180)]


def _container(database_url: str, broker: str, handler: RecordingHandler, **settings):
    config = Config(database_url=database_url, executor="celery", celery_broker_url=broker,
                    celery_queue=unique_queue(), sweep_interval_seconds=1, jwt_secret="j" * 32,
                    **settings)
    return bootstrap(config, handlers={KIND: handler})


@pytest.mark.parametrize("broker", [REDIS_BROKER, RABBIT_BROKER], ids=["redis", "rabbitmq"])
def test_every_event_processed_exactly_once_through_the_broker(postgres_url, broker):
    handler = RecordingHandler()
    container = _container(postgres_url, broker, handler)
    executor = build_executor(container)
    assert isinstance(executor, CeleryExecutor)
    try:
        with celery_worker(container, sweep=False):
            executor.start()
            store(container.db, 450)
            executor.notify()
            assert wait_until(lambda: inbox.counts(container.db).get("done") == 450, 90)
        assert sorted(handler.seen) == list(range(450))
        assert set(handler.seen.values()) == {1}
    finally:
        executor.stop()
        container.close()


def test_duplicate_and_stale_messages_do_nothing(postgres_url):
    handler = RecordingHandler()
    container = _container(postgres_url, REDIS_BROKER, handler)
    try:
        store(container.db, 10)
        events, lease = leases.claim_due(container.db, limit=10, lease_seconds=60, kinds=[KIND])
        ids, token = [e.id for e in events], leases.token_of(lease)
        assert process(container, ids, token) == 10
        assert process(container, ids, token) == 0  # the same message delivered again
        store(container.db, 5, start=10)
        fresh, lease2 = leases.claim_due(container.db, limit=10, lease_seconds=60, kinds=[KIND])
        assert process(container, [e.id for e in fresh], token) == 0  # wrong token
        assert process(container, [e.id for e in fresh], leases.token_of(lease2)) == 5
        assert set(handler.seen.values()) == {1} and len(handler.seen) == 15
    finally:
        container.close()


def test_lost_messages_come_back_through_the_sweep(postgres_url):
    """Rows leased for a message that never reached a worker (a broker that restarted
    empty) are claimed again by the worker's sweep once the lease lapses."""
    handler = RecordingHandler()
    container = _container(postgres_url, REDIS_BROKER, handler, lease_seconds=2)
    try:
        store(container.db, 30)
        lost, _ = leases.claim_due(container.db, limit=30, lease_seconds=2, kinds=[KIND])
        assert len(lost) == 30 and inbox.counts(container.db) == {"processing": 30}
        with celery_worker(container, sweep=True):
            assert wait_until(lambda: inbox.counts(container.db).get("done") == 30, 60)
        assert set(handler.seen.values()) == {1}
    finally:
        container.close()


def test_publish_failure_releases_rows_for_the_sweep(postgres_url):
    handler = RecordingHandler()
    container = _container(postgres_url, "redis://127.0.0.1:1/0", handler)
    try:
        store(container.db, 3)
        from connector.jobs.celery_app import make_celery

        dispatcher = Dispatcher(container, make_celery(container.config), [KIND])
        assert dispatcher.dispatch_once() == 0
        # released: claimable again at once, not after a whole lease
        again, _ = leases.claim_due(container.db, limit=10, lease_seconds=60, kinds=[KIND])
        assert len(again) == 3
    finally:
        container.close()


def test_task_is_registered_with_late_acks(postgres_url):
    from connector.jobs.celery_app import make_celery

    app = make_celery(Config(database_url=postgres_url, celery_broker_url=REDIS_BROKER))
    task = app.tasks[TASK_NAME]
    assert task.acks_late and task.reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
