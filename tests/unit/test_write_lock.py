"""The SQLite write lock's fast lane: an acknowledgement's insert goes before queued
dispatches, ordinary waiters keep their arrival order, and the API is never starved."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from connector.jobs import inbox
from connector.store.db import Database, WriteLock
from tests.support.waiting import wait_until


def _queue(lock: WriteLock, name: str, order: list[str], *, priority: bool = False,
           body: Callable[[], None] = lambda: None) -> threading.Thread:
    """Start a thread that takes ``lock`` (records ``name`` while holding it) and wait
    until it is queued behind the current holder."""
    queued = len(lock._priority) + len(lock._ordinary)

    def run() -> None:
        lock.acquire(priority=priority)
        try:
            order.append(name)
            body()
        finally:
            lock.release()

    thread = threading.Thread(target=run)
    thread.start()
    wait_until(lambda: len(lock._priority) + len(lock._ordinary) > queued, 5,
               "the thread queued", interval=0.001)
    return thread


def test_ordinary_waiters_are_served_in_arrival_order_and_priority_ones_first():
    lock, order = WriteLock(), []
    lock.acquire()
    threads = [_queue(lock, "dispatch-1", order), _queue(lock, "dispatch-2", order),
               _queue(lock, "ack", order, priority=True), _queue(lock, "dispatch-3", order)]
    lock.release()
    for thread in threads:
        thread.join(10)
    assert order == ["ack", "dispatch-1", "dispatch-2", "dispatch-3"]


def test_a_stream_of_priority_holders_lets_an_ordinary_waiter_in():
    lock, order = WriteLock(), []
    lock.acquire()
    threads = [_queue(lock, "dispatch", order)]
    threads += [_queue(lock, f"ack-{n}", order, priority=True)
                for n in range(WriteLock.PRIORITY_STREAK + 2)]
    lock.release()
    for thread in threads:
        thread.join(10)
    assert order.index("dispatch") == WriteLock.PRIORITY_STREAK
    assert len(order) == WriteLock.PRIORITY_STREAK + 3


def test_the_lock_is_reentrant_and_refuses_a_release_by_another_thread():
    lock = WriteLock()
    lock.acquire()
    lock.acquire(priority=True)
    lock.release()
    errors = []

    def other() -> None:
        try:
            lock.release()
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(10)
    assert errors
    lock.release()
    taken = []
    thread = threading.Thread(target=lambda: taken.append(lock.acquire()))
    thread.start()
    thread.join(10)  # free again: another thread takes it at once
    assert taken == [None] and lock._owner == thread.ident


def test_a_webhook_insert_is_not_queued_behind_waiting_dispatches(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'lock.db'}")
    db.migrate()
    lock = db._sqlite_lock
    assert lock is not None
    order: list[str] = []
    lock.acquire()  # a dispatch in progress

    def dispatch_transaction() -> None:
        with db.session():
            order.append("dispatch")

    waiting = []
    for _ in range(3):
        thread = threading.Thread(target=dispatch_transaction)
        queued = len(lock._ordinary)
        thread.start()
        wait_until(lambda q=queued: len(lock._ordinary) > q, 5, "a waiter queued",
                   interval=0.001)
        waiting.append(thread)

    def acknowledge() -> None:
        inbox.store_events(db, [inbox.NewEvent("hubspot", "1", "k1", "hubspot", {"a": 1})])
        order.append("ack")

    ack = threading.Thread(target=acknowledge)
    ack.start()
    wait_until(lambda: len(lock._priority) == 1, 5, "the priority waiter queued",
               interval=0.001)
    lock.release()
    for thread in [ack, *waiting]:
        thread.join(10)
    assert order == ["ack", "dispatch", "dispatch", "dispatch"]
    assert inbox.counts(db) == {"pending": 1}
    db.dispose()


@pytest.mark.parametrize("priority", [False, True])
def test_a_failed_transaction_hands_the_lock_on(tmp_path, priority):
    db = Database(f"sqlite:///{tmp_path / 'fail.db'}")
    with pytest.raises(ValueError), db.session(priority=priority):
        raise ValueError("boom")
    assert db._sqlite_lock._owner is None
    db.dispose()
