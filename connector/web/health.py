from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from .common import container

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness plus a database round trip."""
    try:
        with container().db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not healthy
        log.warning("health check: the database is unreachable", exc_info=True)
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})
