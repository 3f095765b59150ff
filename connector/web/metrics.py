"""``GET /metrics`` (Prometheus text) and ``GET /readyz``."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import text

from .common import container
from .errors import ApiError

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)


def _check_metrics_token() -> None:
    """With ``CONNECTOR_METRICS_TOKEN`` set, a scrape must present it as a bearer token:
    the figures name portals and show traffic, which is nobody else's business."""
    from connector.metrics import bearer_matches

    if not bearer_matches(request.headers.get("Authorization"),
                          container().config.metrics_token):
        raise ApiError(401, "Missing or invalid bearer token for /metrics "
                            "(CONNECTOR_METRICS_TOKEN)")


@bp.get("/metrics")
def metrics():
    from connector.metrics import render

    _check_metrics_token()
    body, content_type = render(container().db, container().extras.get("now"))
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
