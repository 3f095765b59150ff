"""The HTTP plumbing of the fake HubSpot: a threaded stdlib server on 127.0.0.1.

Kept apart from the API behaviour (``fake_server``) so that file reads as a description of
HubSpot, not of sockets. ``handle(method, path, query, headers, body)`` returns
``(status, headers, json_body_or_None)``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

Handler = Callable[
    [str, str, dict[str, list[str]], Mapping[str, str], bytes],
    tuple[int, dict[str, str], Any],
]


def _make_request_handler(handle: Handler) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            status, headers, payload = handle(
                self.command, parts.path, query, dict(self.headers.items()), body)
            raw = b"" if payload is None else json.dumps(payload).encode("utf-8")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if raw:
                self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if raw:
                self.wfile.write(raw)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _dispatch

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None

    return RequestHandler


class ThreadedServer:
    """Serve ``handle`` on 127.0.0.1 (port 0 = any free port) in a daemon thread."""

    def __init__(self, handle: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handle = handle
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        server = ThreadingHTTPServer((self._host, self._port), _make_request_handler(self._handle))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-http",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class ServedFake:
    """Start, stop, URL and ``with`` for a fake CRM whose ``_server`` is a
    :class:`ThreadedServer` (the fake HubSpot and the fake Salesforce)."""

    _server: ThreadedServer

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
