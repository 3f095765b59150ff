"""Routers: list, edit, publish/unpublish, and simulate on a sample record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from connector.mapping import ObjectMapping, usage
from connector.service.objects import SYSTEM_FIELDS, field_specs
from connector.service.simulate import simulate
from connector.store import admin_repo
from connector.store import repositories as repo

from ..common import container
from ..errors import ApiError
from ..manage import _settings_for_store
from . import bp
from .explain import explain
from .forms import (
    OPERATOR_LABELS,
    condition_rows,
    group_matches,
    settings_from_form,
    split_list,
    trigger_from_form,
)
from .security import AdminError, login_required


def _router_or_404(session, router_id: str, *, lock: bool = False):
    row = repo.get_router(session, g.account_id, router_id, lock=lock)
    if row is None:
        raise AdminError(404, "Router not found in your account.")
    return row


def _rep_labels(reps) -> dict[str, str]:
    return {r.id: (f"{r.name} <{r.email}>" if r.name else r.email) for r in reps}


@bp.get("/routers")
@login_required
def routers_list():
    with container().db.read_session() as session:
        rows = admin_repo.routers(session, g.account_id)
        return render_template("admin/routers.html", routers=rows)


def _known_fields(object_type: str) -> tuple[list[ObjectMapping], dict[str, None]]:
    """The current mappings feeding ``object_type``, and every field name a record of
    that type can carry here: mapped fields, then the API's own and custom fields."""
    mappings = usage.mappings_for(container().db, object_type, account_id=g.account_id)
    names: dict[str, None] = {f.name: None for m in mappings for f in m.fields}
    if object_type in SYSTEM_FIELDS:
        with container().db.read_session() as session:
            names.update(dict.fromkeys(field_specs(session, g.account_id, object_type)))
    return mappings, names


def _field_warnings(object_type: str, settings: dict[str, Any] | None,
                    mappings: list[ObjectMapping], known: dict[str, None]) -> list[str]:
    """Trigger fields no record of this type can have. A warning, not an error: records
    also come from the API with custom fields, and an admin may be about to change the
    mapping to produce the field."""
    sources = ", ".join(f"{m.source}/{m.object}" for m in mappings) or "none"
    return [f"Trigger field '{name}' is not a field of the {object_type} mapping "
            f"({sources}), nor a {object_type} field of the API or a custom field: no record "
            f"has it, so conditions on it never see a value"
            for name in usage.trigger_fields(settings) if name not in known]


def _edit_page(router, reps, *, settings: dict[str, Any] | None, errors=(), status=200,
               simulation=None, sample: str = "", sample_owner: str = "", fields=None):
    """``fields`` is ``_known_fields`` of the router's type, read beforehand when the page
    is rendered inside a write session (reading the mappings opens sessions of its own)."""
    settings = settings or {}
    members = {u["user_id"]: u for u in settings.get("users", [])}
    mappings, known = fields or _known_fields(router.object_type)
    if not sample:
        sample = json.dumps(usage.sample_record(mappings, router.settings), indent=2)
    return render_template(
        "admin/router_edit.html", router=router, reps=reps, settings=settings,
        members=members, rows=condition_rows(settings), group_match=group_matches(settings),
        operators=OPERATOR_LABELS, errors=list(errors), simulation=simulation,
        sample=sample, sample_owner=sample_owner, mappings=mappings, known=list(known),
        warnings=_field_warnings(router.object_type, settings, mappings, known)), status


@bp.get("/routers/<router_id>")
@login_required
def router_edit(router_id: str):
    with container().db.read_session() as session:
        router = _router_or_404(session, router_id)
        reps = admin_repo.reps(session, g.account_id)
        session.expunge_all()  # read on after the session ends
    return _edit_page(router, reps, settings=router.settings)


@bp.post("/routers/<router_id>")
@login_required
def router_save(router_id: str):
    with container().db.read_session() as session:
        object_type = _router_or_404(session, router_id).object_type
    fields = _known_fields(object_type)
    with container().db.session() as session:
        router = _router_or_404(session, router_id, lock=True)
        reps = admin_repo.reps(session, g.account_id)
        labels = _rep_labels(reps)
        settings, errors = settings_from_form(request.form, [r.id for r in reps], labels,
                                              router.settings)
        name = request.form.get("name", "").strip()
        if not name or len(name) > 200:
            errors.insert(0, "Invalid field 'name': must have 1 to 200 characters")
        if settings is not None and not errors:
            try:
                stored = _settings_for_store(session, settings, router.settings)
            except ApiError as exc:
                errors.append(exc.message)
        if errors:
            session.rollback()
            echoed = _echo(request.form, [r.id for r in reps], router.settings)
            return _edit_page(router, reps, settings=echoed, errors=errors, status=400,
                              fields=fields)
        router.name = name
        router.settings = stored
        router.updated_at = datetime.now(UTC)
    flash("Router saved. It routes the next record with these settings.")
    for warning in _field_warnings(object_type, stored, *fields):
        flash(f"Warning: {warning}.", "warning")
    return redirect(url_for("admin.router_edit", router_id=router_id))


def _echo(form, rep_ids: list[str], previous: dict[str, Any] | None) -> dict[str, Any]:
    """The submitted values, shaped like settings, so a refused form keeps its edits."""
    users = [{"user_id": i, "weight": form.get(f"member-{i}-weight", ""),
              "daily_cap": form.get(f"member-{i}-daily_cap", ""),
              "weekly_cap": form.get(f"member-{i}-weekly_cap", "")}
             for i in rep_ids if form.get(f"member-{i}-on")]
    return {**(previous or {}), "users": users,
            "distribution": form.get("distribution"),
            "load_window_hours": form.get("load_window_hours"),
            "trigger": trigger_from_form(form, []), "overwrite": form.get("overwrite"),
            "backup_user": {"enabled": bool(form.get("backup_enabled")),
                            "user_id": form.get("backup_user_id") or None},
            "ignore_working_hours_when_none_available": bool(form.get("ignore_working_hours")),
            "start_on": form.getlist("start_on"),
            "watch_properties": split_list(form.get("watch_properties", ""))}


@bp.post("/routers/<router_id>/publish")
@login_required
def router_publish(router_id: str):
    published = request.form.get("published") == "1"
    with container().db.session() as session:
        router = _router_or_404(session, router_id, lock=True)
        if published and router.settings is None:
            raise AdminError(400, "Add users and save the router's settings before "
                                  "publishing it.")
        router.published = published
        router.updated_at = datetime.now(UTC)
    flash("Router published: it routes new records now." if published else
          "Router unpublished: it routes nothing until published again.")
    return redirect(url_for("admin.router_edit", router_id=router_id))


@bp.post("/routers/<router_id>/simulate")
@login_required
def router_simulate(router_id: str):
    """Run the saved router on a pasted record. Reads only; stores nothing."""
    sample = request.form.get("sample", "")
    owner = request.form.get("owner", "")
    with container().db.session() as session:
        router = _router_or_404(session, router_id)
        reps = admin_repo.reps(session, g.account_id)
    try:
        fields = json.loads(sample)
    except json.JSONDecodeError as exc:
        fields, error = None, f"Invalid field 'sample': not valid JSON ({exc.msg} at line " \
                              f"{exc.lineno}, column {exc.colno})"
    else:
        error = None if isinstance(fields, dict) else \
            "Invalid field 'sample': expected a JSON object of field names and values"
    if error:
        return _edit_page(router, reps, settings=router.settings, errors=[error], status=400,
                          sample=sample, sample_owner=owner)
    decision = simulate(container().db, g.account_id, router_id, fields,
                        owner_rep_id=owner or None,
                        as_published=request.form.get("as_published") == "1")
    names = {r.email: (f"{r.name} <{r.email}>" if r.name else r.email) for r in reps}
    reason = decision.explain()
    simulation = {"decision": decision, "reason": reason,
                  "explanation": explain(reason, router.settings, names)}
    return _edit_page(router, reps, settings=router.settings, simulation=simulation,
                      sample=sample, sample_owner=owner)
