"""``GET /openapi.json``: the API described from the same pydantic models that validate it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from .openapi_salesforce import salesforce_paths
from .schemas import AccountIn, AccountPatch, FieldIn, RouterIn, RouterPatch, UserIn, UserPatch

bp = Blueprint("openapi", __name__)

_REF = "#/components/schemas/"


def _json(schema: str | dict[str, Any]) -> dict[str, Any]:
    body = {"$ref": _REF + schema} if isinstance(schema, str) else schema
    return {"content": {"application/json": {"schema": body}}}


def _resp(description: str, schema: str | dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        out.update(_json(schema))
    return out


_ERRORS = {code: _resp(text, "Error") for code, text in
           {"400": "Invalid input",
            "401": "Missing or invalid bearer token, or its account does not exist",
            "403": "The token's account is not active",
            "404": "Not found", "500": "Processing error"}.items()}


def _op(summary: str, responses: dict[str, Any], body: str | None = None,
        params: list[dict[str, Any]] | None = None, errors=("400", "401", "500"),
        account_scoped: bool = True) -> dict:
    """``account_scoped`` operations also answer 403 when the token's account is
    deactivated."""
    if account_scoped and "401" in errors:
        errors = (*errors, "403")
    op: dict[str, Any] = {"summary": summary, "responses": {**responses,
                                                           **{e: _ERRORS[e] for e in errors}}}
    if body:
        op["requestBody"] = {"required": True, **_json(body)}
    if params:
        op["parameters"] = params
    return op


_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _object_paths(kind: str, plural: str) -> dict[str, Any]:
    title = kind.capitalize()
    page = {"type": "object", "properties": {
        "results": {"type": "array", "items": {"$ref": _REF + title}},
        "paging": {"type": ["object", "null"]}}}
    return {
        f"/{plural}": {
            "post": _op(f"Create {kind}", {"201": _resp("Created", title),
                                            "409": _resp("Duplicate active record", "Error")},
                        "FieldsPayload"),
            "get": _op(f"List {plural}", {"200": _resp("A page", page)}, params=[
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                             "maximum": 200}},
                {"name": "after", "in": "query", "schema": {"type": "string"}},
                {"name": "archived", "in": "query", "schema": {"type": "boolean"}}]),
        },
        f"/{plural}/{{id}}": {
            "get": _op(f"Get {kind}", {"200": _resp("Found", title)}, params=_ID,
                       errors=("401", "404", "500")),
            "patch": _op(f"Update {kind}", {"200": _resp("Updated", title),
                                             "409": _resp("Duplicate", "Error")},
                         "FieldsPayload", _ID, errors=("400", "401", "404", "500")),
            "delete": _op(f"Archive {kind}", {"200": _resp("Archived", title)}, params=_ID,
                          errors=("401", "404", "500")),
        },
        f"/{plural}/{{id}}/restore": {
            "post": _op(f"Restore an archived {kind}", {"200": _resp("Restored", title),
                                                         "409": _resp("Duplicate", "Error")},
                        params=_ID, errors=("401", "404", "500")),
        },
    }


def _crud(path: str, name: str, model_in: str, model_patch: str) -> dict[str, Any]:
    item = {"type": "object", "additionalProperties": True}
    listing = {"type": "object", "properties": {"results": {"type": "array", "items": item}}}
    conflict = {"409": _resp("Conflicts with an existing one (e.g. the email)", "Error")}
    return {
        f"/{path}": {"post": _op(f"Create {name}", {"201": _resp("Created", item),
                                                    **conflict}, model_in),
                     "get": _op(f"List {name}s", {"200": _resp("All", listing)},
                                errors=("401", "500"))},
        f"/{path}/{{id}}": {
            "get": _op(f"Get {name}", {"200": _resp("Found", item)}, params=_ID,
                       errors=("401", "404", "500")),
            "patch": _op(f"Update {name}", {"200": _resp("Updated", item), **conflict},
                         model_patch, _ID, errors=("400", "401", "404", "500")),
            "delete": _op(f"Delete {name}", {"204": {"description": "Deleted"}}, params=_ID,
                          errors=("401", "404", "500")),
        },
    }


def _object_schema(fields: list[str], owner: str) -> dict[str, Any]:
    props: dict[str, Any] = {"id": {"type": "string"},
                             "external_id": {"type": ["string", "null"]},
                             "created_at": {"type": "string", "format": "date-time"},
                             "updated_at": {"type": "string", "format": "date-time"},
                             "archived": {"oneOf": [{"type": "boolean"}, {"type": "string"}]},
                             "archived_by": {"type": ["string", "null"]},
                             owner: {"type": ["string", "null"]}}
    for name in fields:
        props.setdefault(name, {})
    return {"type": "object", "properties": props, "additionalProperties": True,
            "required": ["id", "created_at", "updated_at", "archived"]}


def spec() -> dict[str, Any]:
    from connector.service.objects import SYSTEM_FIELDS

    schemas: dict[str, Any] = {
        "Error": {"type": "object", "required": ["message", "error"],
                  "properties": {"message": {"type": "string"}, "error": {"type": "boolean"},
                                 "error_id": {"type": "string", "description":
                                              "500 only: the id the log holds the error "
                                              "under"}}},
        "DispatchRequest": {"type": "object", "required": ["router_id", "object_id"],
                            "properties": {"router_id": {"type": "string", "minLength": 1},
                                           "object_id": {"type": "string", "minLength": 1}}},
        "DispatchResponse": {"type": "object", "required": ["message"], "properties": {
            "message": {"type": "string"}, "success": {"type": "boolean"},
            "user": {"type": "string"}, "field_name": {"type": "string"},
            "owner_assigned_at": {"type": "string"},
            "hubspot_sync_failed": {"type": "boolean"}, "hubspot_error": {"type": "string"}}},
        "FieldsPayload": {"type": "object", "required": ["fields"],
                          "properties": {"fields": {"type": "object"}}},
        "Contact": _object_schema(list(SYSTEM_FIELDS["contact"]), "contact_owner"),
        "Ticket": _object_schema(list(SYSTEM_FIELDS["ticket"]), "ticket_owner"),
    }
    for model in (UserIn, UserPatch, RouterIn, RouterPatch, FieldIn, AccountIn, AccountPatch):
        schema = model.model_json_schema(ref_template=_REF + "{model}")
        for name, sub in schema.pop("$defs", {}).items():
            schemas[name] = sub
        schemas[model.__name__] = schema

    paths: dict[str, Any] = {
        "/dispatch/router": {"post": {**_op(
            "Dispatch object to router",
            {"200": _resp("Dispatch completed: assigned, or a non-error outcome (a missing "
                          "or inactive account included)", "DispatchResponse"),
             "202": _resp("Queued (async): stored, run by the executor; the decision is "
                          "on GET /events/{event_id}", {
                              "type": "object", "required": ["message", "event_id"],
                              "properties": {"message": {"type": "string"},
                                             "event_id": {"type": "string"},
                                             "status_url": {"type": "string"}}}),
             "409": _resp("Idempotency-Key already used for another dispatch", "Error")},
            "DispatchRequest", account_scoped=False, params=[
                {"name": "async", "in": "query", "schema": {"type": "string",
                                                             "enum": ["true", "false"]},
                 "description": "true: store the request and answer 202"},
                {"name": "Prefer", "in": "header", "schema": {"type": "string"},
                 "description": "respond-async: the same as async=true"},
                {"name": "Idempotency-Key", "in": "header",
                 "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                 "description": "makes a resent async request a duplicate"}])}},
        **_object_paths("contact", "contacts"),
        **_object_paths("ticket", "tickets"),
        **_crud("users", "user", "UserIn", "UserPatch"),
        **_crud("routers", "router", "RouterIn", "RouterPatch"),
        "/routers/{id}/publish": {"post": _op("Publish a router", {"200": _resp("Published")},
                                              params=_ID, errors=("401", "404", "500"))},
        "/routers/{id}/unpublish": {"post": _op("Unpublish a router",
                                                {"200": _resp("Unpublished")}, params=_ID,
                                                errors=("401", "404", "500"))},
        "/fields": {"post": _op("Define a custom field", {"201": _resp("Created"),
                                                          "409": _resp("Exists", "Error")},
                                "FieldIn"),
                    "get": _op("List custom fields", {"200": _resp("All")},
                               errors=("401", "500"))},
        "/decisions": {"get": _op("Routing decisions with their reasons",
                                  {"200": _resp("Decisions")}, params=[
                                      {"name": n, "in": "query", "schema": {"type": "string"}}
                                      for n in ("object_id", "user_id", "router_id")])},
        "/account": {"get": _op("The token's account (an inactive one too)",
                                {"200": _resp("Account")}, errors=("401", "500"),
                                account_scoped=False)},
        "/accounts": {"post": _op("Create an account (admin token)", {"201": _resp("Created"),
                                  "403": _resp("Not an admin token", "Error")}, "AccountIn",
                                  account_scoped=False),
                      "get": _op("List accounts (admin token)", {"200": _resp("All"),
                                 "403": _resp("Not an admin token", "Error")},
                                 account_scoped=False)},
        "/accounts/{id}": {"patch": _op(
            "Rename, deactivate or reactivate an account (admin token)",
            {"200": _resp("Updated"), "403": _resp("Not an admin token", "Error")},
            "AccountPatch", params=_ID, errors=("400", "401", "404", "500"),
            account_scoped=False)},
        "/openapi.json": {"get": {"summary": "This document", "security": [],
                                  "responses": {"200": _resp("OpenAPI 3.1 document",
                                                             {"type": "object"})}}},
        "/healthz": {"get": {"summary": "Liveness", "security": [],
                             "responses": {"200": {"description": "Healthy"},
                                           "503": {"description": "Database unreachable"}}}},
        **_operations_paths(),
    }
    from .mappings import openapi_paths as mapping_paths

    paths.update(mapping_paths())
    paths.update(salesforce_paths())
    from .openapi_hubspot import paths as hubspot_paths

    paths.update(hubspot_paths())
    _document_request_limits(paths)
    from .v1.openapi import for_root

    v1_paths, v1_schemas = for_root()
    paths.update(v1_paths)
    schemas.update(v1_schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "CRM lead-routing connector", "version": "1"},
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "apiKey": {"type": "http", "scheme": "bearer",
                       "description": "An API key (ck_...) for /v1; see /v1/openapi.json"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _document_request_limits(paths: dict[str, Any]) -> None:
    """Every operation can answer 400 from the request guard (``web/limits.py``): a NUL
    in the path or query, or a JSON body nested too deep or holding what no field can."""
    limits = _resp("Invalid input: a NUL character in the path, query or body, an "
                   "unpaired surrogate, JSON nested deeper than 32 levels or an integer "
                   "beyond 64 bits", "Error")
    for item in paths.values():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                operation.setdefault("responses", {}).setdefault("400", limits)


def _operations_paths() -> dict[str, Any]:
    """Readiness, metrics and the HubSpot webhook (signed by HubSpot, not a bearer token)."""
    checks = {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "enum": ["ready", "unavailable"]},
        "database": {"type": "string"}, "broker": {"type": "string"},
        "failed": {"type": "array", "items": {"type": "string"}}}}
    text = {"text/plain": {"schema": {"type": "string"}}}
    return {
        "/readyz": {"get": {"summary": "Ready: database (and broker) reachable", "security": [],
                            "responses": {"200": _resp("Ready", checks),
                                          "503": _resp("Not ready; names what failed",
                                                       checks)}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (text format); with "
                                        "CONNECTOR_METRICS_TOKEN set, that bearer token",
                             "security": [],
                             "responses": {"200": {"description": "Metrics", "content": text},
                                           "401": _resp("CONNECTOR_METRICS_TOKEN is set and "
                                                        "was not sent", "Error")}}},
        "/webhooks/hubspot": {"post": {
            "summary": "HubSpot webhook batch (X-HubSpot-Signature-v3)", "security": [],
            "requestBody": {"required": True, **_json({"type": "array", "maxItems": 100,
                                                       "items": {"type": "object"}})},
            "responses": {"204": {"description": "Stored"},
                          "400": _resp("Not a HubSpot webhook batch", "Error"),
                          "401": _resp("Missing, stale or wrong signature", "Error"),
                          "413": _resp("Request body too large", "Error"),
                          "503": _resp("Webhooks not configured", "Error")}}},
        "/webhooks/hubspot/workflow-action": {"post": {
            "summary": "HubSpot custom workflow action \"Route with connector\" (signed "
                       "X-HubSpot-Signature v2, or v3 when sent)",
            "description": "HubSpot calls it for each enrolled record. The router named by "
                           "input field router_id decides. A record already mirrored here "
                           "is answered at once with outputFields owner_id, owner_email, "
                           "outcome_message; otherwise the answer is hs_execution_state "
                           "BLOCK and the execution is completed later through HubSpot's "
                           "callbacks API with the same output fields. Every execution is "
                           "stored first (keyed by callbackId), so none is lost.",
            "security": [],
            "requestBody": {"required": True, **_json({
                "type": "object", "required": ["callbackId", "origin", "object",
                                               "inputFields"],
                "properties": {
                    "callbackId": {"type": "string"},
                    "origin": {"type": "object", "required": ["portalId"], "properties": {
                        "portalId": {"type": "integer"},
                        "actionDefinitionId": {"type": "integer"},
                        "actionDefinitionVersion": {"type": "integer"}}},
                    "context": {"type": "object"},
                    "object": {"type": "object", "required": ["objectId", "objectType"],
                               "properties": {"objectId": {"type": "integer"},
                                              "objectType": {"type": "string", "enum": [
                                                  "CONTACT", "COMPANY", "DEAL", "TICKET"]}}},
                    "inputFields": {"type": "object", "required": ["router_id"],
                                    "properties": {"router_id": {"type": "string"}}}}})},
            "responses": {
                "200": {"description": "Outputs, or BLOCK (completed by callback later)",
                        **_json({"type": "object", "properties": {"outputFields": {
                            "type": "object", "properties": {
                                "owner_id": {"type": "string"},
                                "owner_email": {"type": "string"},
                                "outcome_message": {"type": "string"},
                                "hs_execution_state": {"type": "string", "enum": ["BLOCK"]},
                                "hs_expiration_duration": {"type": "string"}}}}})},
                "400": _resp("Not a workflow action request (names the field), or the "
                             "portal is connected to no account", "Error"),
                "401": _resp("Missing, stale or wrong signature", "Error"),
                "413": _resp("Request body too large", "Error"),
                "503": _resp("HUBSPOT_CLIENT_SECRET is not configured", "Error")}}},
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(spec())
