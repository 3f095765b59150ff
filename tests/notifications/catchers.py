"""Local receivers for notification tests: an HTTP catcher on 127.0.0.1 that answers like
Slack's incoming webhooks and Web API or any webhook receiver, and an aiosmtpd server."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Caught:
    path: str
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpCatcher:
    """Records every POST; ``answers`` maps a path to (status, body) (default 200 "ok",
    or Slack's ``{"ok": true}`` under ``/api/``)."""

    requests: list[Caught] = field(default_factory=list)
    answers: dict[str, tuple[int, str]] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> HttpCatcher:
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                catcher.requests.append(Caught(self.path, {k.lower(): v for k, v in
                                                                self.headers.items()}, body))
                default = (200, json.dumps({"ok": True, "channel": "C1", "ts": "1.2"})) \
                    if self.path.startswith("/api/") else (200, "ok")
                status, text = catcher.answers.get(self.path, default)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json"
                                 if text.startswith("{") else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class MailCatcher:
    """An aiosmtpd server on 127.0.0.1 keeping every message it receives."""

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list[Any] = []
        catcher = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd
                catcher.messages.append(envelope)
                return "250 Message accepted for delivery"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        auth: dict[str, Any] = {}
        if login is not None:
            def authenticator(server, session, envelope, mechanism, data):
                given = (data.login.decode(), data.password.decode())
                return AuthResult(success=given == login, handled=False)

            # AUTH PLAIN without TLS on 127.0.0.1 only, for the test
            auth = {"authenticator": authenticator, "auth_require_tls": False,
                    "auth_exclude_mechanism": ["LOGIN"]}
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     **auth)

    def start(self) -> MailCatcher:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
