"""``GET /v1/insights/routing``."""

from __future__ import annotations

from datetime import timedelta

from flask import g, jsonify, request

from connector.service import insights as service
from connector.service.objects import iso
from connector.service.v1_errors import V1Error

from ..common import container
from . import bp, now, scoped
from .common import datetime_arg, public


@bp.get("/insights/routing")
@scoped("insights:read")
def routing_insights():
    """``from``/``to`` (ISO 8601, default the last 30 days), ``group_by`` rep (default),
    rule or day."""
    group_by = request.args.get("group_by", "rep")
    bad: dict[str, str] = {}
    if group_by not in service.GROUPS:
        bad["group_by"] = "must be one of rep, rule, day"
    times = {}
    for name in ("from", "to"):
        try:
            times[name] = datetime_arg(name)
        except V1Error as exc:
            bad.update(exc.fields)
    if bad:
        raise V1Error(422, "Invalid query parameters", bad)
    end = times["to"] or now()
    start = times["from"] or end - timedelta(days=30)
    report = service.routing(container().db, g.account_id, start, end, group_by)
    report["from"], report["to"] = iso(start), iso(end)
    if group_by == "rep":
        for row in report["groups"]:
            row["key"] = public("rep", row["key"])
    return jsonify(report)
