"""Decisions: search by record or rep, each with its reason in plain sentences, and a
chart of assignments per rep per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import g, render_template, request

from connector.store import admin_repo

from ..common import container
from . import bp
from .chart import per_rep_per_day, svg
from .explain import explain
from .routers import rep_label
from .security import AdminError, login_required

CHART_DAYS = 14


def _names(reps) -> dict[str, str]:
    return {r.email: rep_label(r) for r in reps}


def _record_label(obj, row=None) -> str:
    """A record's name; for a decision without one, whether the record was removed since,
    never existed ("no such record"), or was not looked up (no such router)."""
    if obj is None:
        if row is None or row.object_id is not None:
            return "(record removed)"
        asked = ((row.reason or {}).get("requested") or {}).get("object_id")
        if row.outcome == "object_not_found":
            return f"no such record '{asked}'" if asked else "no such record"
        return f"'{asked}' (not looked up)" if asked else "—"
    label = obj.email or obj.external_id or obj.source_id or obj.id
    return f"{obj.object_type} {label}" + (f" ({obj.source})" if obj.source != "api" else "")


def _router_label(router, row) -> str:
    """A router's name, "(deleted router)", or "no such router" when the dispatch named
    one that never existed in this account."""
    if router is not None:
        return router.name
    if row.router_id is not None:
        return "(deleted router)"
    asked = ((row.reason or {}).get("requested") or {}).get("router_id")
    if row.outcome == "router_not_found":
        return f"no such router '{asked}'" if asked else "no such router"
    return "—"


@bp.get("/decisions")
@login_required
def decisions_list():
    record = request.args.get("record", "").strip()
    rep_email = request.args.get("rep", "").strip()
    notice = None
    today = datetime.now(UTC).date()
    with container().db.read_session() as session:
        reps = admin_repo.reps(session, g.account_id)
        object_ids = rep_id = None
        if record:
            object_ids = [o.id for o in admin_repo.objects_matching(session, g.account_id,
                                                                    record)]
            if not object_ids:
                notice = f"No record with id, CRM id, external id or email '{record}'."
        if rep_email:
            rep = admin_repo.rep_by_email(session, g.account_id, rep_email)
            rep_id = rep.id if rep else "-"
            if rep is None:
                notice = f"No user with email '{rep_email}' in this account."
        rows = admin_repo.decisions(session, g.account_id, object_ids=object_ids,
                                    rep_id=rep_id, limit=100)
        objects = admin_repo.objects_by_id(session, g.account_id, {r.object_id for r in rows})
        routers = {r.id: r for r in admin_repo.routers(session, g.account_id)}
        names = _names(reps)
        items = [{"row": r, "record": _record_label(objects.get(r.object_id), r),
                  "router": routers.get(r.router_id),
                  "router_label": _router_label(routers.get(r.router_id), r),
                  "why": explain(r.reason or {}, (routers[r.router_id].settings
                                                  if r.router_id in routers else None), names)}
                 for r in rows]
        since = datetime.combine(today - timedelta(days=CHART_DAYS - 1), datetime.min.time(),
                                 tzinfo=UTC)
        days, chart_reps, counts = per_rep_per_day(
            admin_repo.assignments_since(session, g.account_id, since), CHART_DAYS, today)
        return render_template("admin/decisions.html", items=items, record=record,
                               rep=rep_email, reps=reps, notice=notice,
                               chart=svg(days, chart_reps, counts), days=days,
                               chart_reps=chart_reps, counts=counts)


@bp.get("/decisions/<decision_id>")
@login_required
def decision_detail(decision_id: str):
    with container().db.read_session() as session:
        row = admin_repo.decision(session, g.account_id, decision_id)
        if row is None:
            raise AdminError(404, "Decision not found in your account.")
        reps = admin_repo.reps(session, g.account_id)
        routers = {r.id: r for r in admin_repo.routers(session, g.account_id)}
        router = routers.get(row.router_id)
        obj = admin_repo.objects_by_id(session, g.account_id, {row.object_id}).get(
            row.object_id)
        why = explain(row.reason or {}, router.settings if router else None, _names(reps))
        clocks = sla_clocks(row.object_id) if row.object_id else []
        return render_template("admin/decision.html", row=row, router=router, obj=obj,
                               record=_record_label(obj, row), why=why,
                               router_label=_router_label(router, row), clocks=clocks,
                               rep_names={r.id: rep_label(r) for r in reps})


def sla_clocks(object_id: str) -> list[dict]:
    """The record's SLA clocks: deadline, time left, state and what stopped each."""
    from datetime import UTC, datetime

    from connector.service.sla import clocks_for

    now = container().extras.get("now", lambda: datetime.now(UTC))()
    return clocks_for(container().db, g.account_id, object_id, now)
