"""``GET /metrics`` (Prometheus text) and ``GET /readyz``."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from .common import container

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    from connector.metrics import render

    body, content_type = render(container().db)
    return Response(body, content_type=content_type)


@bp.get("/readyz")
def readyz():
    """200 when the database answers and, with the Celery executor, the broker too; else 503
    naming what failed (so a load balancer stops sending webhooks we cannot store)."""
    c = container()
    checks: dict[str, str] = {}
    try:
        with c.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: the database is unreachable", exc_info=True)
        checks["database"] = "unreachable"  # the reason is in the log, not for clients
    if c.config.executor == "celery":
        reachable = getattr(c.executor, "broker_reachable", None)
        if reachable is None:
            from connector.jobs.celery_app import make_celery
            from connector.jobs.celery_executor import broker_reachable

            ok = broker_reachable(make_celery(c.config))
        else:
            ok = reachable()
        checks["broker"] = "ok" if ok else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    failed = [name for name, v in checks.items() if v != "ok"]
    body = {"status": "ready" if ready else "unavailable", **checks}
    if failed:
        body["failed"] = failed
    return jsonify(body), 200 if ready else 503
