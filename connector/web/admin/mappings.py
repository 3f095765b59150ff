"""Mappings: list, edit with validation as you type and on save, preview on a pasted
payload or a recent inbox event, save with a comment, history with diffs, rollback.

Everything goes through ``connector.mapping.versions`` and ``preview``, the same code the
management API and the CLI use. The console edits the signed-in account's own mapping:
a saved version is what executors map that account's next event with, and no other
account sees it. Version 0 is the default, which only the operator changes.
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash, g, jsonify, redirect, render_template, request, url_for

from connector.mapping import MappingError, parse_mapping_text, preview, usage, versions
from connector.service import event_records
from connector.store import admin_repo

from ..common import container
from . import bp
from .security import AdminError, login_required


def _version_or_404(source: str, obj: str, version: int | None = None):
    try:
        return versions.get_version(container().db, source, obj, version,
                                    account_id=g.account_id)
    except versions.UnknownMapping:
        raise AdminError(404, f"There is no mapping for {source}/{obj}.") from None
    except versions.UnknownVersion:
        raise AdminError(404, f"{source}/{obj} has no version {version}.") from None


def _issues(exc: MappingError) -> list[str]:
    return [str(i) for i in exc.issues] or list(exc.errors)


def _warnings(source: str, obj: str, text: str) -> list[str]:
    """This account's routers whose trigger uses a field this text no longer maps."""
    found = usage.dropped_fields(container().db, source, obj, text,
                                 account_id=g.account_id)
    return [w.text for w in found]


def _draft() -> str:
    """The editor's text; browsers submit textarea lines ending in CRLF."""
    return request.form.get("yaml", "").replace("\r\n", "\n")


def _recent_events(source: str, obj: str) -> list[dict[str, Any]]:
    """The account's 20 latest events from ``source`` about an ``obj`` record (a contact
    page lists contact events only), each with a short label."""
    with container().db.read_session() as session:
        rows = admin_repo.events(session, g.account_id, source=source, limit=300)
        out = []
        for row in rows:
            if event_records.event_object(source, row.kind, row.payload) != obj:
                continue
            out.append({"id": row.id, "created_at": row.created_at, "status": row.status,
                        "label": event_records.describe(source, row.payload)})
            if len(out) == 20:
                break
        return out


def _event_record(source: str, obj: str, event_id: str, draft: str) -> dict[str, Any]:
    """The record behind one of the account's events, read with the properties the
    draft needs (the current version's when the draft does not parse)."""
    with container().db.read_session() as session:
        event = admin_repo.event(session, g.account_id, event_id)
        if event is None:
            raise AdminError(404, "Event not found in your account.")
        source_of, kind, payload = event.source, event.kind, dict(event.payload)
    about = event_records.event_object(source_of, kind, payload)
    if source_of != source or about != obj:
        raise event_records.RecordUnavailable(
            f"That event is not about a {source} {obj}; pick one from the list.")
    try:
        properties = parse_mapping_text(draft, expected=(source, obj)).properties
    except MappingError:
        properties = _version_or_404(source, obj).mapping().properties
    return event_records.record_for_event(container(), source, payload, properties)


@bp.get("/mappings")
@login_required
def mappings_list():
    rows = versions.list_mappings(container().db, account_id=g.account_id)
    return render_template("admin/mappings.html", mappings=rows)


def _edit_page(source: str, obj: str, text: str, *, errors=(), status: int = 200,
               comment: str = "", payload: str = "", result=None, event_id: str = "",
               warnings=()):
    current = _version_or_404(source, obj)
    return render_template(
        "admin/mapping_edit.html", source=source, obj=obj, current=current, text=text,
        errors=list(errors), comment=comment, payload=payload, result=result,
        warnings=list(warnings),
        events=_recent_events(source, obj), event_id=event_id), status


@bp.get("/mappings/<source>/<obj>")
@login_required
def mapping_edit(source: str, obj: str):
    current = _version_or_404(source, obj)
    return _edit_page(source, obj, current.yaml_text)


@bp.post("/mappings/<source>/<obj>/validate")
@login_required
def mapping_validate(source: str, obj: str):
    """As-you-type validation: ``{"ok": bool, "errors": ["<where>:<line>: ..."]}``."""
    try:
        issues = versions.validate(container().db, source, obj, _draft())
    except versions.UnknownMapping:
        raise AdminError(404, f"There is no mapping for {source}/{obj}.") from None
    return jsonify({"ok": not issues, "errors": [str(i) for i in issues],
                    "warnings": _warnings(source, obj, _draft())})


@bp.post("/mappings/<source>/<obj>")
@login_required
def mapping_save(source: str, obj: str):
    text = _draft()
    comment = request.form.get("comment", "").strip()
    if not comment:
        return _edit_page(source, obj, text, comment=comment, status=400, errors=[
            "Invalid field 'comment': say what this change is for; it is shown in the "
            "history"])
    try:
        warnings = _warnings(source, obj, text)  # against the version being replaced
        saved = versions.save_version(container().db, source, obj, text,
                                      author=g.admin.email, comment=comment,
                                      account_id=g.account_id)
    except versions.UnknownMapping:
        raise AdminError(404, f"There is no mapping for {source}/{obj}.") from None
    except MappingError as exc:
        return _edit_page(source, obj, text, errors=_issues(exc), comment=comment,
                          status=400)
    flash(f"Saved {source}/{obj} as {saved.label}. The next event is mapped with it.")
    for warning in warnings:
        flash(f"Warning: {warning}. Update that router's trigger.", "warning")
    return redirect(url_for("admin.mapping_history", source=source, obj=obj))


@bp.post("/mappings/<source>/<obj>/preview")
@login_required
def mapping_preview(source: str, obj: str):
    """Map a pasted payload (or a recent event's) with the draft in the editor, and show
    which of this account's published routers it would match. Stores nothing."""
    text = _draft()
    raw = request.form.get("payload", "")
    event_id = request.form.get("event_id", "")
    page = {"comment": request.form.get("comment", ""), "event_id": event_id}
    if event_id:
        try:
            raw = json.dumps(_event_record(source, obj, event_id, text), indent=2)
        except event_records.RecordUnavailable as exc:
            return _edit_page(source, obj, text, payload=raw, status=400, **page,
                              errors=[f"Invalid field 'event_id': {exc}"])
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _edit_page(source, obj, text, payload=raw, status=400, **page, errors=[
            f"Invalid field 'payload': not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno})"])
    if not isinstance(payload, dict):
        return _edit_page(source, obj, text, payload=raw, status=400, **page, errors=[
            "Invalid field 'payload': expected a JSON object (a CRM record)"])
    try:
        result = preview.preview(container().db, source, obj, payload, yaml_text=text,
                                 account_id=g.account_id)
    except MappingError as exc:
        return _edit_page(source, obj, text, payload=raw, errors=_issues(exc), status=400,
                          **page)
    return _edit_page(source, obj, text, payload=raw, result=result, **page,
                      warnings=_warnings(source, obj, text))


@bp.get("/mappings/<source>/<obj>/history")
@login_required
def mapping_history(source: str, obj: str):
    db = container().db
    try:
        history = versions.list_versions(db, source, obj, account_id=g.account_id)
    except versions.UnknownMapping:
        raise AdminError(404, f"There is no mapping for {source}/{obj}.") from None
    diffs = {v.version: versions.diff(db, source, obj, older.version, v.version,
                                      account_id=g.account_id)
             for v, older in zip(history, history[1:], strict=False)}
    compare = None
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if a is not None and b is not None:
        _version_or_404(source, obj, a)
        _version_or_404(source, obj, b)
        compare = {"a": a, "b": b, "text": versions.diff(db, source, obj, a, b,
                                                         account_id=g.account_id)}
    return render_template("admin/mapping_history.html", source=source, obj=obj,
                           history=history, diffs=diffs, compare=compare)


@bp.post("/mappings/<source>/<obj>/rollback")
@login_required
def mapping_rollback(source: str, obj: str):
    version = request.form.get("version", type=int)
    if version is None:
        raise AdminError(400, "Invalid field 'version': choose a version to roll back to.")
    _version_or_404(source, obj, version)
    saved = versions.rollback(container().db, source, obj, version, author=g.admin.email,
                              account_id=g.account_id)
    flash(f"Rolled back: {saved.label} is a copy of "
          f"{'the default' if version == 0 else f'v{version}'} and is now current.")
    return redirect(url_for("admin.mapping_history", source=source, obj=obj))


@bp.get("/mappings/<source>/<obj>/export")
@login_required
def mapping_export(source: str, obj: str):
    version = request.args.get("version", type=int)
    _version_or_404(source, obj, version)
    text = versions.export(container().db, source, obj, version, account_id=g.account_id)
    return text, 200, {"Content-Type": "text/yaml; charset=utf-8",
                       "Content-Disposition": f'attachment; filename="{obj}.yaml"'}
