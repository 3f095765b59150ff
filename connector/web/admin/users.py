"""Users (reps): list, and edit their availability: status, time zone, weekly working
hours and out-of-office periods.

The form is turned into the body ``PATCH /users/{id}`` takes and validated with the same
pydantic schema (``UserPatch``), so the console stores nothing the API would refuse;
errors say which day, range or period in plain words, then the API's field name.
Out-of-office times are entered in the rep's own time zone and stored with its offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import flash, g, redirect, render_template, request, url_for
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from connector.core.codec import WEEKDAYS
from connector.store import admin_repo

from ..common import container
from ..errors import ApiError
from ..manage import insert_user, remove_user
from ..schemas import UserIn, UserPatch, first_error
from . import bp, wording
from .security import AdminError, login_required

EXTRA_PERIOD_ROWS = 2
_LOCAL = "%Y-%m-%dT%H:%M"


def _rep_or_404(session, user_id: str):
    row = next((r for r in admin_repo.reps(session, g.account_id) if r.id == user_id), None)
    if row is None:
        raise AdminError(404, "User not found in your account.")
    return row


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def hours_text(spans: list[dict[str, str]] | None) -> str:
    """``[{"start": "09:00", "end": "12:00"}, ...]`` -> ``"09:00-12:00, 13:00-17:00"``."""
    return ", ".join(f"{s['start']}-{s['end']}" for s in spans or [])


def _local(value: str, zone: ZoneInfo) -> str:
    """A stored ISO time as the rep's local ``YYYY-MM-DDTHH:MM`` (a datetime-local); a
    time that has no local date (stored before the API kept dates within 1970-9998) is
    shown as stored rather than breaking the page."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.astimezone(zone).strftime(_LOCAL)
    except (TypeError, ValueError, OverflowError):
        return str(value)


def form_values(rep) -> dict[str, Any]:
    """The form's fields for a stored rep."""
    zone = _zone(rep.timezone)
    hours = rep.working_hours
    return {"status": rep.status, "timezone": rep.timezone, "name": rep.name,
            "limit_hours": hours is not None,
            "days": {day: hours_text((hours or {}).get(day)) for day in WEEKDAYS},
            "periods": [{"start": _local(p["start"], zone), "end": _local(p["end"], zone)}
                        for p in rep.out_of_office or []]}


def _echo(form: MultiDict) -> dict[str, Any]:
    """The submitted fields, so a refused form keeps the admin's edits."""
    return {"status": form.get("status", ""), "timezone": form.get("timezone", ""),
            "name": form.get("name", ""), "limit_hours": bool(form.get("limit_hours")),
            "days": {day: form.get(f"hours-{day}", "") for day in WEEKDAYS},
            "periods": [{"start": s, "end": e} for s, e in
                        zip(form.getlist("ooo_start"), form.getlist("ooo_end"), strict=False)
                        if s or e]}


def _spans(day: str, raw: str, errors: list[str]) -> list[dict[str, str]]:
    spans = []
    for number, part in enumerate((p.strip() for p in raw.split(",") if p.strip()), 1):
        start, dash, end = part.partition("-")
        if not dash:
            errors.append(f"{day.capitalize()}, hours {number}: write a range as "
                          f"09:00-17:00; got '{part}' (working_hours.{day})")
            continue
        spans.append({"start": start.strip(), "end": end.strip()})
    return spans


def _aware(raw: str, zone: ZoneInfo) -> str:
    """A datetime-local in the rep's zone, with its offset; anything else unchanged for
    the schema to judge."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


def body_from_form(form: MultiDict) -> tuple[dict[str, Any], list[str]]:
    """The ``PATCH /users/{id}`` body of the form, and the errors found before the
    schema runs (ranges that are not written as a range)."""
    errors: list[str] = []
    zone = _zone(form.get("timezone", "UTC").strip())
    body: dict[str, Any] = {"name": form.get("name", "").strip(),
                            "status": form.get("status", ""),
                            "timezone": form.get("timezone", "").strip()}
    if form.get("limit_hours"):
        body["working_hours"] = {}
        for day in WEEKDAYS:
            spans = _spans(day, form.get(f"hours-{day}", ""), errors)
            if spans:
                body["working_hours"][day] = spans
    else:
        body["working_hours"] = None
    body["out_of_office"] = [
        {"start": _aware(start, zone), "end": _aware(end, zone)}
        for start, end in zip(form.getlist("ooo_start"), form.getlist("ooo_end"), strict=False)
        if start.strip() or end.strip()]
    return body, errors


def _label(loc: list[Any]) -> str:
    if not loc:
        return ""
    head = {"status": "Status", "timezone": "Time zone", "name": "Name",
            "working_hours": "Working hours", "out_of_office": "Out of office"}
    if loc[0] == "working_hours" and len(loc) > 1:
        text = str(loc[1]).capitalize()
        if len(loc) > 2:
            text += f", hours {wording.nth(loc[2])}"
        if len(loc) > 3:
            text += f", {loc[3]}"
        return text
    if loc[0] == "out_of_office" and len(loc) > 1:
        text = f"Out of office period {wording.nth(loc[1])}"
        return text + (f", {loc[2]}" if len(loc) > 2 else "")
    return head.get(str(loc[0]), str(loc[0]))


def validate(body: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The values to store, or None and every error (with the API's field names)."""
    try:
        data = UserPatch.model_validate(body)
    except ValidationError as exc:
        return None, [wording.describe(e, _label) for e in exc.errors()]
    return data.model_dump(exclude_unset=True, mode="json"), []


def _list_page(*, errors=(), status: int = 200, form=None):
    with container().db.read_session() as session:
        reps = admin_repo.reps(session, g.account_id)
        rows = [{"rep": r, "form": form_values(r)} for r in reps]
        return render_template("admin/users.html", rows=rows, weekdays=WEEKDAYS,
                               form=form or {}, zones=sorted(available_timezones()),
                               errors=list(errors)), status


@bp.get("/users")
@login_required
def users_list():
    return _list_page()


@bp.post("/users")
@login_required
def user_create():
    """A new rep, available at any time in the chosen time zone; availability is set on
    the rep's page."""
    body = {"email": request.form.get("email", "").strip(),
            "name": request.form.get("name", "").strip(),
            "timezone": request.form.get("timezone", "").strip() or "UTC"}
    try:
        data = UserIn.model_validate(body)
    except ValidationError as exc:
        return _list_page(errors=[first_error(exc)], status=400, form=request.form)
    try:
        with container().db.session() as session:
            user_id = insert_user(session, g.account_id, data).id
    except ApiError as exc:
        return _list_page(errors=[exc.message], status=exc.status, form=request.form)
    flash(f"User {data.name or data.email} added. Add them to a router to route records "
          f"to them.")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<user_id>/delete")
@login_required
def user_delete(user_id: str):
    with container().db.session() as session:
        rep = _rep_or_404(session, user_id)
        label = rep.name or rep.email
        remove_user(session, g.account_id, rep)
    flash(f"User {label} deleted and taken out of every router.")
    return redirect(url_for("admin.users_list"))


def _edit_page(rep, values: dict[str, Any], *, errors=(), status: int = 200):
    periods = values["periods"] + [{"start": "", "end": ""}] * EXTRA_PERIOD_ROWS
    from connector.service.calendars import feed_status

    return render_template("admin/user_edit.html", rep=rep, values=values, periods=periods,
                           weekdays=WEEKDAYS, zones=sorted(available_timezones()),
                           errors=list(errors),
                           feed=feed_status(container().db, rep.id)), status


@bp.get("/users/<user_id>")
@login_required
def user_edit(user_id: str):
    with container().db.read_session() as session:
        rep = _rep_or_404(session, user_id)
        return _edit_page(rep, form_values(rep))


@bp.post("/users/<user_id>")
@login_required
def user_save(user_id: str):
    body, errors = body_from_form(request.form)
    values, schema_errors = validate(body)
    errors += schema_errors
    with container().db.session() as session:
        rep = _rep_or_404(session, user_id)
        if errors or values is None:
            return _edit_page(rep, _echo(request.form), errors=errors, status=400)
        for key in ("name", "status", "timezone", "working_hours", "out_of_office"):
            setattr(rep, key, values.get(key))
        label = rep.name or rep.email
    flash(f"Saved {label}. Routers use this availability for the next record.")
    return redirect(url_for("admin.user_edit", user_id=user_id))
