"""A task run every few seconds on a daemon thread until stopped (schedules such as the
sweep of stale BYOC routings); an exception is logged and the schedule goes on."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, interval: float, task: Callable[[], Any]) -> None:
        self.name = name
        self.interval = interval
        self._task = task
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._task()
            except Exception:  # noqa: BLE001 - a failed round must not end the schedule
                log.exception("%s failed", self.name)
