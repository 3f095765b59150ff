from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from .common import container

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness plus a database round trip."""
    try:
        with container().db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not healthy
        return jsonify({"status": "error", "database": type(exc).__name__}), 503
    return jsonify({"status": "ok", "database": "ok"})
