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
