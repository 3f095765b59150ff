"""The baseline for the webhook ack benchmark: a bare Flask endpoint answering 204."""

from __future__ import annotations

from flask import Flask, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/hubspot")
    def hook():
        request.get_data()
        return "", 204

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def create_write_app(path: str) -> Flask:
    """The baseline for the dispatch benchmark: a bare endpoint doing one SQLite write
    transaction per request, on a file set up as the connector sets up its own (WAL,
    synchronous=NORMAL, BEGIN IMMEDIATE)."""
    import sqlite3
    import threading
    import uuid

    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(path, isolation_level=None, timeout=60)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS hits (id TEXT PRIMARY KEY, body TEXT)")
        return conn

    app = Flask(__name__)

    @app.post("/write")
    def write():
        body = request.get_data(as_text=True)
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO hits (id, body) VALUES (?, ?)", (uuid.uuid4().hex, body))
        conn.execute("COMMIT")
        return {"ok": True}

    return app
