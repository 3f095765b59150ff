"""``GET /v1/insights/routing`` and ``/v1/insights/measures`` (JSON and CSV)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, g, jsonify, request

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
    start, end = _period(group_by, service.GROUPS)
    report = service.routing(container().db, g.account_id, start, end, group_by)
    report["from"], report["to"] = iso(start), iso(end)
    if group_by == "rep":
        for row in report["groups"]:
            row["key"] = public("rep", row["key"])
    return jsonify(report)


def _period(group_by: str, groups: tuple[str, ...]) -> tuple[datetime, datetime]:
    """``from``/``to`` (default: the 30 days up to now); 422 naming every bad parameter,
    ``group_by`` included."""
    bad: dict[str, str] = {}
    if group_by not in groups:
        bad["group_by"] = f"must be one of {', '.join(groups)}"
    times = {}
    for name in ("from", "to"):
        try:
            times[name] = datetime_arg(name)
        except V1Error as exc:
            bad.update(exc.fields)
    if bad:
        raise V1Error(422, "Invalid query parameters", bad)
    end = times["to"] or now()
    return times["from"] or end - timedelta(days=30), end


def measures_report(account_id: str) -> dict:
    """The report of ``GET /v1/insights/measures`` (also the console's and the CSV's)."""
    group_by = request.args.get("group_by", "total")
    start, end = _period(group_by, service.MEASURE_GROUPS)
    report = service.measures(container().db, account_id, start, end, group_by, now())
    report["from"], report["to"] = iso(start), iso(end)
    return report


@bp.get("/insights/measures")
@scoped("insights:read")
def routing_measures():
    """Speed to lead (p50/p90 seconds), SLA met %, breaches, reassignments, shares
    against fair shares, unassigned and backup-user rates; ``group_by`` router, rep, day
    or total (default)."""
    report = measures_report(g.account_id)
    if report["group_by"] == "rep":
        for row in report["groups"]:
            row["key"] = public("rep", row["key"])
    return jsonify(report)


@bp.get("/insights/measures.csv")
@scoped("insights:read")
def routing_measures_csv():
    """The same rows as CSV, one per group and a last ``total`` row."""
    report = measures_report(g.account_id)
    return Response(service.to_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="routing-{report["group_by"]}.csv"'})
