"""SLA monitors in the console: list, create, edit and delete an account's monitors (the
same rules as ``/v1/sla-monitors``), and the latest SLA clocks with what stopped each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from pydantic import ValidationError

from connector.service import sla as service
from connector.service.v1_errors import V1Error
from connector.store import admin_repo
from connector.store.reads import detached

from ..common import container
from ..v1.schemas import SlaMonitorIn
from . import bp
from .security import AdminError, login_required

CONDITIONS = {"first_touch": "First touch", "status_changed": "Status changed",
              "meeting_booked": "Meeting booked"}


def _now() -> datetime:
    return container().extras.get("now", lambda: datetime.now(UTC))()


def _routers() -> list[Any]:
    with detached(container().db) as session:
        return admin_repo.routers(session, g.account_id)


def _values(form) -> dict[str, Any]:
    """The form as the API's body: reminders as comma-separated fractions, up to three
    stages of fields ``stage{n}_after``, ``_notify``, ``_reassign``, ``_set_away``."""
    reminders: list[Any] = []
    for part in (form.get("reminders") or "").replace(" ", "").split(","):
        if part:
            try:
                reminders.append(float(part))
            except ValueError:
                reminders.append(part)
    stages = []
    for n in (1, 2, 3):
        if not form.get(f"stage{n}_on"):
            continue
        stages.append({"after": form.get(f"stage{n}_after") or "PT0S",
                       "notify": form.getlist(f"stage{n}_notify"),
                       "reassign": bool(form.get(f"stage{n}_reassign")),
                       "set_away": bool(form.get(f"stage{n}_set_away"))})
    managers = [m.strip() for m in (form.get("manager_emails") or "").split(",") if m.strip()]
    return {"name": (form.get("name") or "").strip(), "router_id": form.get("router_id"),
            "condition": form.get("condition"), "duration": (form.get("duration") or "").strip(),
            "clock": form.get("clock") or "working", "reminders": reminders, "stages": stages,
            "manager_emails": managers, "active": bool(form.get("active"))}


def _checked(form) -> dict[str, Any]:
    try:
        return SlaMonitorIn.model_validate(_values(form)).model_dump(mode="json")
    except ValidationError as exc:
        raise V1Error(422, "invalid", {".".join(str(p) for p in e["loc"]) or "form":
                                       str(e["msg"]).removeprefix("Value error, ")
                                       for e in exc.errors()}) from None


def _page(*, monitor=None, errors=(), status: int = 200, form=None):
    db = container().db
    routers = _routers()
    return render_template(
        "admin/sla.html", monitors=service.list_monitors(db, g.account_id),
        routers=routers, names={r.id: r.name for r in routers}, conditions=CONDITIONS,
        clocks=service.recent(db, g.account_id, _now(), limit=50), editing=monitor,
        errors=list(errors), form=form), status


@bp.get("/sla")
@login_required
def sla_list():
    return _page()


@bp.post("/sla")
@login_required
def sla_create():
    try:
        row = service.create_monitor(container().db, g.account_id, _checked(request.form))
    except V1Error as exc:
        return _page(errors=[f"{k}: {v}" for k, v in exc.fields.items()] or [exc.message],
                     status=400, form=request.form)
    flash(f"Created the SLA monitor {row.name}.")
    return redirect(url_for("admin.sla_list"))


def _monitor(monitor_id: str):
    try:
        return service.get_monitor(container().db, g.account_id, monitor_id)
    except V1Error:
        raise AdminError(404, "SLA monitor not found in your account.") from None


@bp.get("/sla/<monitor_id>")
@login_required
def sla_edit(monitor_id: str):
    return _page(monitor=_monitor(monitor_id))


@bp.post("/sla/<monitor_id>")
@login_required
def sla_update(monitor_id: str):
    row = _monitor(monitor_id)
    try:
        values = _checked(request.form)
        values.pop("ruleset_id", None)
        service.update_monitor(container().db, g.account_id, row.id, values)
    except V1Error as exc:
        return _page(monitor=row, status=400, form=request.form,
                     errors=[f"{k}: {v}" for k, v in exc.fields.items()] or [exc.message])
    flash(f"Saved the SLA monitor {values['name']}.")
    return redirect(url_for("admin.sla_list"))


@bp.post("/sla/<monitor_id>/delete")
@login_required
def sla_delete(monitor_id: str):
    row = _monitor(monitor_id)
    service.delete_monitor(container().db, g.account_id, row.id)
    flash(f"Deleted the SLA monitor {row.name} and its clocks.")
    return redirect(url_for("admin.sla_list"))


# -- a clock, and the Accept / Reassign links of its notifications -----------------------
#
# The links in a Slack message open this page (signed in); only its forms, POSTed with
# the console's CSRF token, act: link previews and mail scanners fetch URLs, so a GET
# never changes a clock.

ACTIONS = ("accept", "reassign")


def _clock(clock_id: str) -> dict[str, Any]:
    view = service.clock_of(container().db, g.account_id, clock_id, _now())
    if view is None:
        raise AdminError(404, "SLA clock not found in your account.")
    return view


@bp.get("/sla/clocks/<clock_id>")
@login_required
def sla_clock(clock_id: str):
    action = request.args.get("action")
    return render_template("admin/sla_clock.html", clock=_clock(clock_id),
                           action=action if action in ACTIONS else None)


@bp.post("/sla/clocks/<clock_id>/accept")
@login_required
def sla_clock_accept(clock_id: str):
    _clock(clock_id)
    if service.accept(container().db, g.account_id, clock_id, _now(), by=g.admin.email):
        flash("Accepted: the SLA clock is stopped.")
    else:
        flash("The SLA clock was no longer running; nothing changed.")
    return redirect(url_for("admin.sla_clock", clock_id=clock_id))


@bp.post("/sla/clocks/<clock_id>/reassign")
@login_required
def sla_clock_reassign(clock_id: str):
    _clock(clock_id)
    c = container()
    what = service.run_next_stage(c.db, g.account_id, clock_id, _now(),
                                  notify=service.with_links(
                                      c.extras.get("notify") or service.default_notify,
                                      c.config.public_url),
                                  sync=c.owner_sync,
                                  salesforce=service.salesforce_writer(c))
    flash(f"Ran the next stage: {what}." if what is not None else
          "The SLA clock is not running or has no stage left; nothing changed.")
    return redirect(url_for("admin.sla_clock", clock_id=clock_id))
