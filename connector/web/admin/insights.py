"""Insights: the routing measures of ``GET /v1/insights/measures`` as a dashboard (totals,
a table and server-drawn charts per router, rep or day) and its CSV, for the signed-in
account."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Response, g, render_template, request

from connector.service import insights as service
from connector.service.v1_errors import V1Error

from ..common import container
from . import bp
from .chart import bars
from .security import login_required

DEFAULT_DAYS = 30


def _now() -> datetime:
    return container().extras.get("now", lambda: datetime.now(UTC))()


def _report() -> tuple[dict, list[str]]:
    """The report for ``?from=YYYY-MM-DD&to=YYYY-MM-DD&group_by=``; problems are listed,
    and the default period (the last 30 days) used instead."""
    problems = []
    now = _now()
    end, start = now, now - timedelta(days=DEFAULT_DAYS)
    try:
        if request.args.get("to"):
            end = datetime.combine(date.fromisoformat(request.args["to"]) + timedelta(days=1),
                                   time(), UTC)
        if request.args.get("from"):
            start = datetime.combine(date.fromisoformat(request.args["from"]), time(), UTC)
    except ValueError:
        problems.append("From and To must be dates like 2026-12-01.")
        end, start = now, now - timedelta(days=DEFAULT_DAYS)
    group_by = request.args.get("group_by", "router")
    if group_by not in ("router", "rep", "day"):
        problems.append("Group by must be router, rep or day.")
        group_by = "router"
    try:
        report = service.measures(container().db, g.account_id, start, end, group_by, now)
    except V1Error as exc:
        problems.extend(f"{k}: {v}" for k, v in exc.fields.items())
        start = end - timedelta(days=DEFAULT_DAYS)
        report = service.measures(container().db, g.account_id, start, end, group_by, now)
    return report, problems


def _label(row: dict) -> str:
    return row.get("name") or row["key"] or "(none)"


@bp.get("/insights")
@login_required
def insights_page():
    report, problems = _report()
    rows = report["groups"]
    labels = [_label(r) for r in rows]
    charts = {
        "speed": bars(labels, [("p50 minutes", [_minutes(r, "p50") for r in rows]),
                               ("p90 minutes", [_minutes(r, "p90") for r in rows])],
                      title="Speed to lead in minutes", unit=" min"),
        "sla": bars(labels, [("SLA met", [r["sla_met"] for r in rows]),
                             ("SLA breached", [r["sla_breached"] for r in rows]),
                             ("Reassignments", [r["reassignments"] for r in rows])],
                    title="SLA met, breached and reassignments"),
    }
    if report["group_by"] == "rep":
        named = [r for r in rows if r["key"] is not None]
        charts["share"] = bars([_label(r) for r in named], [
            ("Share", [100 * r["share"] for r in named]),
            ("Fair share", [100 * r.get("fair_share", 0) for r in named])],
            title="Share of assignments against fair share (%)", unit=" %")
    return render_template("admin/insights.html", report=report, rows=rows,
                           charts=charts, problems=problems, args=request.args,
                           start=report["from"].date(),
                           end=(report["to"] - timedelta(seconds=1)).date())


@bp.get("/insights.csv")
@login_required
def insights_csv():
    report, _ = _report()
    return Response(service.to_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="routing-{report["group_by"]}.csv"'})


def _minutes(row: dict, which: str) -> float:
    seconds = row["speed_to_lead_seconds"][which]
    return 0.0 if seconds is None else round(seconds / 60, 2)
