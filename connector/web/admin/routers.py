"""Routers: list, edit, publish/unpublish, and simulate on a sample record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from pydantic import ValidationError

from connector.mapping import ObjectMapping, usage
from connector.service.objects import SYSTEM_FIELDS, field_specs
from connector.service.simulate import simulate
from connector.store import admin_repo
from connector.store import repositories as repo

from ..common import container
from ..errors import ApiError
from ..manage import _settings_for_store, insert_router
from ..schemas import RouterIn, first_error
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
    return {r.id: rep_label(r) for r in reps}


OBJECT_TYPES = RouterIn.model_fields["object_type"].annotation.__args__


def _list_page(*, errors=(), status: int = 200, form=None):
    with container().db.read_session() as session:
        rows = admin_repo.routers(session, g.account_id)
        return render_template("admin/routers.html", routers=rows, object_types=OBJECT_TYPES,
                               form=form or {}, errors=list(errors)), status


@bp.get("/routers")
@login_required
def routers_list():
    return _list_page()


@bp.post("/routers")
@login_required
def router_create():
    """A new, unpublished router with no settings yet: its page is where users, trigger
    and distribution are set before publishing."""
    try:
        data = RouterIn.model_validate({"name": request.form.get("name", "").strip(),
                                        "object_type": request.form.get("object_type", "")})
    except ValidationError as exc:
        return _list_page(errors=[first_error(exc)], status=400, form=request.form)
    with container().db.session() as session:
        router_id = insert_router(session, g.account_id, data).id
    flash(f"Router {data.name} created. Choose its users and save, then publish it.")
    return redirect(url_for("admin.router_edit", router_id=router_id))


@bp.post("/routers/<router_id>/delete")
@login_required
def router_delete(router_id: str):
    """Its decisions stay, labelled "(deleted router)"."""
    with container().db.session() as session:
        router = _router_or_404(session, router_id, lock=True)
        name = router.name
        session.delete(router)
    flash(f"Router {name} deleted. Its past decisions stay in Decisions.")
    return redirect(url_for("admin.routers_list"))


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
               simulation=None, sample: str = "", sample_owner: str = "", fields=None,
               sample_mode: str = "fields"):
    """``fields`` is ``_known_fields`` of the router's type, read beforehand when the page
    is rendered inside a write session (reading the mappings opens sessions of its own)."""
    settings = settings or {}
    members = {u["user_id"]: u for u in settings.get("users", [])}
    mappings, known = fields or _known_fields(router.object_type)
    if not sample:
        sample = json.dumps(usage.sample_record(mappings, router.settings), indent=2)
    rows = condition_rows(settings)
    groups = max((row["group"] for row in rows), default=1)
    return render_template(
        "admin/router_edit.html", router=router, reps=reps, settings=settings,
        members=members, rows=rows, group_match=group_matches(settings),
        group_numbers=range(1, groups + 2), has_conditions=any(r["field"] for r in rows),
        operators=OPERATOR_LABELS, errors=list(errors), simulation=simulation,
        sample=sample, sample_values=_sample_values(sample, known), sample_owner=sample_owner,
        sample_mode=sample_mode,
        mappings=mappings, known=list(known), rep_label=rep_label,
        warnings=_field_warnings(router.object_type, settings, mappings, known)), status


def rep_label(rep) -> str:
    """"Jane Doe <jane@example.com>", or the bare email of a rep without a name."""
    return f"{rep.name} <{rep.email}>" if rep.name else rep.email


def _sample_values(sample: str, known) -> dict[str, str]:
    """The simulate form's field inputs: each known field's value in ``sample`` as text."""
    try:
        record = json.loads(sample)
    except json.JSONDecodeError:
        record = {}
    record = record if isinstance(record, dict) else {}
    values = {}
    for name in [*known, *(k for k in record if k not in known)]:
        value = record.get(name)
        values[name] = "" if value is None else \
            (json.dumps(value) if isinstance(value, (bool, list, dict)) else str(value))
    return values


def _record_from_fields(form, mappings: list[ObjectMapping]) -> dict[str, Any]:
    """The record the simulate form's field inputs describe: empty is null, and a mapped
    number or boolean field is read as one (as the mapping would have coerced it)."""
    types = {spec.name: spec.type for m in mappings for spec in m.fields}
    record: dict[str, Any] = {}
    for key in form:
        if not key.startswith("field:"):
            continue
        name, raw = key.removeprefix("field:"), form.get(key, "").strip()
        record[name] = _typed(raw, types.get(name, "string")) if raw else None
    return record


def _typed(raw: str, kind: str) -> Any:
    if kind in ("number", "integer"):
        try:
            number = float(raw)
        except ValueError:
            return raw  # the trigger compares it as text, as it would an unmapped value
        return int(number) if number.is_integer() else number
    if kind == "boolean" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return raw


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
    error = None
    mode = "fields" if request.form.get("mode") == "fields" else "json"
    if mode == "fields":  # the form of mapped fields
        fields = _record_from_fields(request.form, _known_fields(router.object_type)[0])
        sample = json.dumps(fields, indent=2)
    else:  # a pasted record
        try:
            fields = json.loads(sample)
        except json.JSONDecodeError as exc:
            fields, error = None, f"Invalid field 'sample': not valid JSON ({exc.msg} at " \
                                  f"line {exc.lineno}, column {exc.colno})"
        else:
            if not isinstance(fields, dict):
                error = "Invalid field 'sample': expected a JSON object of field names " \
                        "and values"
    if error:
        return _edit_page(router, reps, settings=router.settings, errors=[error], status=400,
                          sample=sample, sample_owner=owner, sample_mode=mode)
    decision = simulate(container().db, g.account_id, router_id, fields,
                        owner_rep_id=owner or None,
                        as_published=request.form.get("as_published") == "1")
    names = {r.email: rep_label(r) for r in reps}
    reason = decision.explain()
    simulation = {"decision": decision, "reason": reason,
                  "explanation": explain(reason, router.settings, names)}
    return _edit_page(router, reps, settings=router.settings, simulation=simulation,
                      sample=sample, sample_owner=owner, sample_mode=mode)
