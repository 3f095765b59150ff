"""Management API for field mappings: list, show with history, validate a draft, preview
a payload, save a version, diff, roll back, export.

Mappings are per account. An account's token manages that account's own mapping: its
saved versions are used for its records only, and version 0 is the current default. An
admin token (``"admin": true``) manages the defaults, which every account without a
version of its own maps with; version 0 is the file. The token's ``sub`` claim is recorded
as the author of a saved version. Validation problems answer 400 with ``errors``: a list
of ``{line, field, message, text}`` so an editor can point at the line.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from connector.mapping import MappingError, preview, usage, versions

from .auth import _claims, check_account, token_account_id
from .common import container, json_body
from .errors import ApiError

bp = Blueprint("mappings", __name__)


def require_mapping_scope(view):
    """An admin token (the defaults) or an active account's token (its own mapping);
    sets ``g.mapping_account`` (None for the defaults) and ``g.subject``, the author of
    saved versions."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        claims = _claims()
        if claims.get("admin") is True:
            g.mapping_account = None
        else:
            g.mapping_account = token_account_id(claims)
            check_account(g.mapping_account)
        g.subject = str(claims.get("sub") or ("admin" if g.mapping_account is None
                                              else "api"))
        return view(*args, **kwargs)

    return wrapper


def _at() -> dict[str, Any]:
    """Where versions are read and saved: the default files' folder and the scope."""
    return {"root": _root(), "account_id": g.mapping_account}


def _db():
    return container().db


def _root():
    return container().mappings.root


def _invalid(exc: MappingError, message: str = "Invalid mapping"):
    response = jsonify({"message": f"{message}: {exc.errors[0]}" if exc.errors else message,
                        "error": True,
                        "errors": [i.as_dict() for i in exc.issues]
                        or [{"line": None, "field": None, "message": e, "text": e}
                            for e in exc.errors]})
    response.status_code = 400
    return response


def _warnings(source: str, obj: str, text: str) -> list[dict[str, Any]]:
    """Routers (the account's; for the defaults, of every account using them) whose
    trigger uses a field this text no longer maps. Warnings only; the text can still be
    saved."""
    return [w.as_dict() for w in usage.dropped_fields(_db(), source, obj, text, **_at())]


def _version_arg(raw: Any, name: str) -> int | None:
    if raw is None or raw == "" or raw == "current":
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid '{name}': must be a version number") from None
    if not 0 <= value <= versions.MAX_VERSION:
        raise ApiError(400, f"Invalid '{name}': must be a version number")
    return value


def _text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid '{name}': must be text" if name in body
                       else f"Missing '{name}'")
    return value


def _body() -> dict[str, Any]:
    data = json_body()
    if not isinstance(data, dict):
        raise ApiError(400, "Invalid JSON body: expected an object")
    return data


@bp.errorhandler(versions.UnknownMapping)
def _unknown_mapping(exc):
    return jsonify({"message": "Mapping not found", "error": True}), 404


@bp.errorhandler(versions.UnknownVersion)
def _unknown_version(exc):
    return jsonify({"message": f"Version not found: {exc}", "error": True}), 404


@bp.get("/mappings")
@require_mapping_scope
def list_mappings():
    return jsonify({"results": versions.list_mappings(_db(), **_at())})


@bp.get("/mappings/<source>/<obj>")
@require_mapping_scope
def show_mapping(source: str, obj: str):
    history = versions.list_versions(_db(), source, obj, **_at())
    current = history[0]
    data = current.as_dict()
    try:
        mapping = current.mapping()
    except MappingError as exc:  # saved under older rules; shown so it can be fixed
        data.update(properties=None, object_type=None, owner=None,
                    errors=[i.as_dict() for i in exc.issues])
    else:
        data.update(properties=list(mapping.properties), object_type=mapping.object_type,
                    owner={"field": mapping.owner_field, "property": mapping.owner_property},
                    errors=[])
    return jsonify({"source": source, "object": obj, "current": data,
                    "versions": [v.as_dict(with_text=False) for v in history]})


@bp.get("/mappings/<source>/<obj>/versions/<int:version>")
@require_mapping_scope
def show_version(source: str, obj: str, version: int):
    return jsonify(versions.get_version(_db(), source, obj, version, **_at()).as_dict())


@bp.get("/mappings/<source>/<obj>/export")
@require_mapping_scope
def export_version(source: str, obj: str):
    version = _version_arg(request.args.get("version"), "version")
    text = versions.export(_db(), source, obj, version, **_at())
    return Response(text, mimetype="application/yaml", headers={
        "Content-Disposition": f'attachment; filename="{obj}.yaml"'})


@bp.post("/mappings/<source>/<obj>/validate")
@require_mapping_scope
def validate_mapping(source: str, obj: str):
    text = _text_field(_body(), "yaml")
    issues = versions.validate(_db(), source, obj, text, root=_root())
    result: dict[str, Any] = {"valid": not issues, "errors": [i.as_dict() for i in issues],
                              "warnings": _warnings(source, obj, text)}
    if not issues:
        from connector.mapping import parse_mapping_text

        result["properties"] = list(parse_mapping_text(text, expected=(source, obj))
                                    .properties)
    return jsonify(result)


@bp.post("/mappings/<source>/<obj>/preview")
@require_mapping_scope
def preview_mapping(source: str, obj: str):
    body = _body()
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise ApiError(400, "Invalid 'payload': must be an object (the record's properties)"
                       if "payload" in body else "Missing 'payload'")
    text = _text_field(body, "yaml", required=False)
    account = _text_field(body, "account_id", required=False)
    if g.mapping_account is not None:
        account = g.mapping_account  # an account previews its own routers only
    try:
        result = preview.preview(_db(), source, obj, payload, yaml_text=text,
                                 account_id=account, root=_root())
    except MappingError as exc:
        return _invalid(exc)
    warnings = _warnings(source, obj, text) if text is not None else []
    return jsonify(result.as_dict() | {"warnings": warnings})


@bp.route("/mappings/<source>/<obj>", methods=["PUT"])
@bp.post("/mappings/<source>/<obj>/versions")
@require_mapping_scope
def save_mapping(source: str, obj: str):
    body = _body()
    text = _text_field(body, "yaml")
    comment = _text_field(body, "comment", required=False) or ""
    warnings = _warnings(source, obj, text)  # against the version being replaced
    try:
        saved = versions.save_version(_db(), source, obj, text, g.subject, comment,
                                      **_at())
    except MappingError as exc:
        return _invalid(exc)
    container().mappings.invalidate(source, obj)
    return jsonify(saved.as_dict() | {"warnings": warnings}), 201


@bp.get("/mappings/<source>/<obj>/diff")
@require_mapping_scope
def diff_versions(source: str, obj: str):
    if "from" not in request.args:
        raise ApiError(400, "Missing query parameter 'from'")
    left = _version_arg(request.args.get("from"), "from")
    right = _version_arg(request.args.get("to"), "to")
    db = _db()
    left_label = versions.get_version(db, source, obj, left, **_at()).version
    right_label = versions.get_version(db, source, obj, right, **_at()).version
    return jsonify({"from": left_label, "to": right_label,
                    "diff": versions.diff(db, source, obj, left_label, right_label,
                                          **_at())})


@bp.post("/mappings/<source>/<obj>/rollback")
@require_mapping_scope
def rollback_mapping(source: str, obj: str):
    body = _body()
    version = _version_arg(body.get("version"), "version")
    if version is None:
        raise ApiError(400, "Missing 'version': the version number to restore")
    comment = _text_field(body, "comment", required=False)
    try:
        saved = versions.rollback(_db(), source, obj, version, g.subject, comment,
                                  **_at())
    except MappingError as exc:
        return _invalid(exc, "Version no longer validates")
    container().mappings.invalidate(source, obj)
    return jsonify(saved.as_dict()), 201


def openapi_paths() -> dict[str, Any]:
    """These endpoints for ``GET /openapi.json``."""
    name = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in ("source", "object")]
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    invalid = {"description": "Invalid mapping: message, and errors [{line, field, message, "
                              "text}]", **error}

    def op(summary: str, ok: str, *, body: dict[str, Any] | None = None,
           params: list[dict[str, Any]] | None = None, status: str = "200",
           extra: dict[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": summary, "parameters": name + (params or []),
                               "responses": {status: {"description": ok},
                                             "401": {"description": "No token", **error},
                                             "403": {"description": "Account not active",
                                                     **error},
                                             "404": {"description": "Unknown mapping or "
                                                                    "version", **error},
                                             **(extra or {})}}
        if body is not None:
            out["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"type": "object", **body}}}}
        return out

    text = {"type": "string"}
    draft = {"required": ["yaml"], "properties": {"yaml": text, "comment": text}}
    query = [{"name": n, "in": "query", "schema": {"type": "string"}} for n in ("from", "to")]
    version = [{"name": "version", "in": "query", "schema": {"type": "integer"}}]
    return {
        "/mappings": {"get": {**op("List field mappings and their current versions",
                                   "Mappings"), "parameters": []}},
        "/mappings/{source}/{object}": {
            "get": op("A mapping: current version (YAML, properties, owner) and history",
                      "Mapping"),
            "put": op("Save a new version of the token's account's own mapping (with an "
                      "admin token, of the defaults); the token's subject is the author",
                      "Saved, with warnings about routers whose trigger fields it drops",
                      body=draft, status="201", extra={"400": invalid})},
        "/mappings/{source}/{object}/versions": {
            "post": op("Save a new version", "Saved, with warnings", body=draft,
                       status="201", extra={"400": invalid})},
        "/mappings/{source}/{object}/versions/{version}": {
            "get": op("One version with its YAML", "Version", params=[
                {"name": "version", "in": "path", "required": True,
                 "schema": {"type": "integer"}}])},
        "/mappings/{source}/{object}/validate": {
            "post": op("Validate a draft; errors carry line numbers", "valid, errors, "
                       "warnings, properties",
                       body={"required": ["yaml"], "properties": {"yaml": text}})},
        "/mappings/{source}/{object}/preview": {
            "post": op("Map a payload and show which published routers' triggers match; "
                       "writes nothing", "record, owner, errors, routers, warnings",
                       body={"required": ["payload"], "properties": {
                           "payload": {"type": "object"}, "yaml": text, "account_id": text}},
                       extra={"400": invalid})},
        "/mappings/{source}/{object}/diff": {
            "get": op("Unified diff between two versions (to defaults to the current)",
                      "from, to, diff", params=query)},
        "/mappings/{source}/{object}/rollback": {
            "post": op("Make an old version current again (as a new version)", "Saved",
                       body={"required": ["version"], "properties": {
                           "version": {"type": "integer"}, "comment": text}}, status="201")},
        "/mappings/{source}/{object}/export": {
            "get": op("A version's YAML (application/yaml)", "YAML", params=version)},
    }
