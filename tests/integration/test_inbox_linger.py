"""Batch lingering (Nagle's rule for the inbox): while a batch is in flight, a partial batch
waits a little for more events instead of each webhook becoming its own batch; a full
batch, an event with nothing in flight and an event already due for a while never wait."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from connector.bootstrap import bootstrap
from connector.config import Config
from connector.jobs import inbox, leases
from connector.jobs.celery_executor import Dispatcher
from connector.jobs.executors import ThreadExecutor
from tests.scale.celery_helpers import KIND, RecordingHandler, store
from tests.support.waiting import wait_until

LINGER = 0.4


@pytest.fixture
def db(config):
    container = bootstrap(config, handlers={KIND: RecordingHandler()})
    yield container.db
    container.close()


def _in_flight(db, count: int = 1) -> None:
    store(db, count, start=10_000)
    events, _ = leases.claim_due(db, limit=count, lease_seconds=60, kinds=[KIND])
    assert len(events) == count


def test_nothing_in_flight_claims_at_once(db):
    store(db, 3)
    assert inbox.linger_left(db, limit=100, linger=LINGER, kinds=[KIND]) == 0.0


def test_partial_batch_waits_while_another_is_in_flight(db):
    _in_flight(db)
    store(db, 3)
    left = inbox.linger_left(db, limit=100, linger=LINGER, kinds=[KIND])
    assert 0.0 < left <= LINGER
    wait_until(lambda: inbox.linger_left(db, limit=100, linger=LINGER, kinds=[KIND]) == 0.0,
               5, "the linger to pass")


def test_full_batch_and_off_switch_never_wait(db):
    _in_flight(db)
    store(db, 5)
    assert inbox.linger_left(db, limit=5, linger=LINGER, kinds=[KIND]) == 0.0
    assert inbox.linger_left(db, limit=100, linger=0, kinds=[KIND]) == 0.0


def test_other_kinds_in_flight_do_not_hold(db):
    _in_flight(db)
    store(db, 3)
    assert inbox.linger_left(db, limit=100, linger=LINGER, kinds=["other"]) == 0.0


class _Broker:
    """Just enough of a Celery app for a dispatcher: records what it publishes."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []

    def connection_for_write(self) -> Any:
        raise ConnectionError("no queue to ask")

    def send_task(self, name: str, args: list[Any], **_: Any) -> None:
        self.sent.append(args[0])


def test_dispatcher_coalesces_webhooks_into_one_batch(config):
    container = bootstrap(replace(config, batch_linger_ms=int(LINGER * 1000)),
                          handlers={KIND: RecordingHandler()})
    try:
        broker = _Broker()
        dispatcher = Dispatcher(container, broker, [KIND])
        store(container.db, 2)
        assert dispatcher.dispatch_once() == 2  # nothing in flight: at once
        for n in range(3):  # three more webhooks while that batch runs
            store(container.db, 2, start=10 + 2 * n)
            assert dispatcher.dispatch_once() == 0
            assert 0 < dispatcher.hold <= LINGER
        assert wait_until(dispatcher.dispatch_once, 5, "the batch after the linger") == 6
        assert [len(ids) for ids in broker.sent] == [2, 6]
    finally:
        container.close()


def test_partial_batches_stay_in_the_inbox_while_a_message_waits(config):
    container = bootstrap(replace(config, batch_linger_ms=int(LINGER * 1000)),
                          handlers={KIND: RecordingHandler()})
    try:
        broker = _Broker()
        dispatcher = Dispatcher(container, broker, [KIND], batch_size=10)
        store(container.db, 25)
        assert dispatcher.dispatch_once() == 20  # full batches go; the rest waits behind
        assert dispatcher.hold == LINGER
        dispatcher.queued = lambda: 2  # both still wait for a worker
        store(container.db, 3, start=25)
        time.sleep(LINGER)
        assert dispatcher.dispatch_once() == 0  # 8 due: still a partial batch
        store(container.db, 2, start=28)
        assert dispatcher.dispatch_once() == 10  # now a full one
        dispatcher.queued = lambda: 0  # the queue drained
        store(container.db, 1, start=30)
        assert wait_until(dispatcher.dispatch_once, 5, "the last partial batch") == 1
        assert [len(ids) for ids in broker.sent] == [10, 10, 10, 1]
    finally:
        container.close()


def test_thread_executor_lingers_then_processes_everything(database_url):
    gate = threading.Event()
    sizes: list[int] = []

    def handler(container: Any, events: Any) -> dict:
        sizes.append(len(events))
        gate.wait(10)  # the first batch stays in flight until released
        return {e.id: None for e in events}

    config = Config(database_url=database_url, executor="inline", jwt_secret="j" * 32)
    container = bootstrap(config, handlers={KIND: handler})
    executor = ThreadExecutor(container, {KIND: handler}, threads=2, interval=5,
                              linger=LINGER)
    executor.start()
    try:
        store(container.db, 1)
        executor.notify()
        assert wait_until(lambda: sizes == [1], 5)
        for n in range(4):
            store(container.db, 1, start=1 + n)
            executor.notify()
        assert wait_until(lambda: len(sizes) == 2, 5)  # after the linger, not the interval
        gate.set()
        assert wait_until(lambda: inbox.counts(container.db).get("done") == 5, 10)
        assert sizes == [1, 4]
    finally:
        gate.set()
        executor.stop()
        container.close()
