"""How ``connector serve`` runs the app under waitress, with a lane for acknowledgements.

Waitress hands requests to one pool of threads in arrival order. When API clients keep
that pool busy (a hundred clients dispatching, each request waiting its turn at the
router's lock), a webhook queues behind all of them, and HubSpot gives up after 5 seconds
and sends it again. So requests that only store what they are given and answer (webhook
deliveries, ``/healthz``) get threads of their own: they wait for at most the write in
progress (see ``connector.store.db.WriteLock``), never for the API's queue.

Waitress takes its thread pool as ``create_server(..., _dispatcher=...)``; the lanes are
two of waitress's own ``ThreadedTaskDispatcher`` and a choice between them, nothing else.
"""

from __future__ import annotations

from typing import Any

from waitress.server import create_server
from waitress.task import ThreadedTaskDispatcher

#: Path prefixes served by the acknowledgement lane: bounded work (verify, insert, answer).
ACK_PATH_PREFIXES: tuple[str, ...] = ("/webhooks/", "/healthz")


def is_ack_path(path: str) -> bool:
    return path.startswith(ACK_PATH_PREFIXES)


class LanedTaskDispatcher:
    """Waitress's task dispatcher interface over two pools: acknowledgements and the rest.

    A task is a waitress channel with at least one parsed request; the first request's
    path picks the lane (a keep-alive connection that sends an API call after a webhook is
    served by the general lane for that call).
    """

    def __init__(self, threads: int, ack_threads: int) -> None:
        self.general = ThreadedTaskDispatcher()
        self.acks = ThreadedTaskDispatcher()
        self.general.set_thread_count(threads)
        self.acks.set_thread_count(ack_threads)

    def set_thread_count(self, count: int) -> None:
        self.general.set_thread_count(count)

    def lane(self, task: Any) -> ThreadedTaskDispatcher:
        requests = getattr(task, "requests", None) or ()
        path = getattr(requests[0], "path", "") if requests else ""
        return self.acks if is_ack_path(path or "") else self.general

    def add_task(self, task: Any) -> None:
        self.lane(task).add_task(task)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        general = self.general.shutdown(cancel_pending, timeout)
        acks = self.acks.shutdown(cancel_pending, timeout)
        return general and acks


def make_server(app: Any, *, host: str, port: int, threads: int, ack_threads: int,
                connection_limit: int) -> Any:
    """A waitress server for ``app`` (call ``.run()``). ``connection_limit`` open
    connections are served at once: waitress's default of 100 lets a hundred keep-alive
    API clients shut every webhook out. ``poll`` instead of ``select`` has no
    1,024-descriptor ceiling."""
    return create_server(app, host=host, port=port, threads=threads,
                         connection_limit=connection_limit, asyncore_use_poll=True,
                         ident="connector",
                         _dispatcher=LanedTaskDispatcher(threads, ack_threads))
