"""``GET /v1/openapi.json``: the /v1 API, its bodies from the pydantic models that
validate them, each operation with the scope it needs and every error it can answer."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic.json_schema import models_json_schema

from connector.service.api_keys import SCOPES

from . import SCOPE_OF, bp
from .schemas import (
    ActivityIn,
    ContactIn,
    ContactPatch,
    LeadIn,
    LeadSample,
    RepIn,
    RepPatch,
    RulesetIn,
    RulesetPatch,
    SlaMonitorIn,
    SlaMonitorPatch,
)

_REF = "#/components/schemas/"
_NULL_STR = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_OBJ = {"type": "object"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _nullable(name: str) -> dict[str, Any]:
    return {"oneOf": [_ref(name), {"type": "null"}]}


_RESPONSES: dict[str, dict[str, Any]] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message", "fields"], "properties": {
            "code": {"type": "string", "enum": ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND",
                                                "CONFLICT", "UNSUPPORTED_MEDIA_TYPE",
                                                "VALIDATION_ERROR",
                                                "RATE_LIMITED", "SERVER_ERROR"]},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Each invalid field (dotted path) and what is wrong"}}}}},
    "RepSummary": {"type": "object", "required": ["id", "name", "email", "status"],
                   "properties": {"id": {"type": "string", "example": "rep_123"},
                                  "name": {"type": "string"}, "email": {"type": "string"},
                                  "status": {"type": "string", "enum": ["AVAILABLE", "BUSY",
                                                                        "AWAY", "OFFLINE"]}}},
    "Rep": {"allOf": [_ref("RepSummary"), {"type": "object", "properties": {
        "capacity": {"type": ["integer", "null"]}, "timezone": {"type": "string"},
        "working_hours": {"type": ["object", "null"]}, "out_of_office": {"type": "array"}}}]},
    "Owner": {"type": "object", "properties": {"id": {"type": "string"},
                                               "name": {"type": "string"},
                                               "email": {"type": "string"}}},
    "Ruleset": {"type": "object", "required": ["id", "name", "version", "active", "rules",
                                               "default_rule"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "integer"},
        "active": {"type": "boolean"}, "rules": {"type": "array", "items": _OBJ},
        "default_rule": _OBJ, "created_at": _TIME, "updated_at": _TIME}},
    "Lead": {"type": "object", "required": ["id", "owner", "rule", "reason"], "properties": {
        "id": {"type": "string"}, "email": _NULL_STR, "fields": _OBJ,
        "contact_id": _NULL_STR, "owner": _nullable("Owner"),
        "rule": {"type": ["object", "null"]}, "reason": _OBJ,
        "decision_id": _NULL_STR, "duplicate": {"type": "boolean"},
        "duplicate_of": _NULL_STR, "crm_sync": _ref("CrmSync"),
        "hubspot_sync_failed": {"type": "boolean", "description": "Present (true) when the "
                                "HubSpot sync failed or is dead; hubspot_error says why"},
        "hubspot_error": _NULL_STR,
        "salesforce_sync_failed": {"type": "boolean", "description": "The same, for a lead "
                                   "whose CRM is Salesforce"},
        "salesforce_error": _NULL_STR,
        "created_at": _TIME}},
    "CrmSync": {
        "type": "object", "required": ["status", "error", "crm", "record_id"],
        "description": "The lead in the account's CRM (a connected HubSpot portal first, else "
                       "a connected Salesforce org): the contact or Lead found by email or "
                       "created with its owner, and the owner written. 'failed' is retried "
                       "on the retry schedule (the request never waits on the CRM beyond the "
                       "interactive deadline); 'dead' means the retries ran out.",
        "properties": {
            "status": {"type": "string",
                       "enum": ["none", "pending", "synced", "failed", "dead"]},
            "error": _NULL_STR,
            "crm": {"type": ["string", "null"], "enum": ["hubspot", "salesforce", None]},
            "record_id": {"type": ["string", "null"], "description": "The HubSpot contact id "
                          "or the Salesforce record id (a Lead, or the record the contact "
                          "was mirrored from)"}}},
    "TestResult": {"type": "object", "required": ["rule", "owner", "assigned", "reason"],
                   "properties": {"rule": {"type": ["object", "null"]},
                                  "owner": _nullable("Owner"), "assigned": {"type": "boolean"},
                                  "fields": _OBJ, "reason": _OBJ}},
    "Contact": {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string"}, "email": _NULL_STR, "external_id": _NULL_STR,
        "fields": _OBJ, "owner_id": _NULL_STR, "source": {"type": "string"},
        "created_at": _TIME, "updated_at": _TIME}},
    "Activity": {"type": "object", "required": ["id", "type"], "properties": {
        "id": {"type": "string"}, "contact_id": {"type": "string"},
        "type": {"type": "string", "enum": ["CALL", "MEETING", "EMAIL", "NOTE"]},
        "notes": {"type": "string"},
        "outcome": {"type": ["string", "null"],
                    "enum": ["POSITIVE", "NEUTRAL", "NEGATIVE", "NO_ANSWER", None]},
        "occurred_at": _TIME, "rep_id": _NULL_STR, "created_at": _TIME}},
    "SlaMonitor": {"type": "object", "required": ["id", "name", "condition", "duration",
                                                  "clock", "stages"], "properties": {
        "id": {"type": "string", "example": "sla_123"}, "name": {"type": "string"},
        "router_id": _NULL_STR, "ruleset_id": _NULL_STR,
        "condition": {"type": "string",
                      "enum": ["first_touch", "status_changed", "meeting_booked"]},
        "duration": {"type": "string", "example": "PT15M"},
        "clock": {"type": "string", "enum": ["working", "wall"]},
        "reminders": {"type": "array", "items": {"type": "number"}},
        "stages": {"type": "array", "items": _OBJ},
        "manager_emails": {"type": "array", "items": {"type": "string"}},
        "active": {"type": "boolean"}, "created_at": _TIME, "updated_at": _TIME}},
    "SlaClock": {"type": "object", "required": ["id", "state", "deadline_at"], "properties": {
        "id": {"type": "string"}, "monitor_id": {"type": "string"},
        "monitor_name": _NULL_STR, "condition": _NULL_STR,
        "clock": {"type": "string", "enum": ["working", "wall"]},
        "object_id": {"type": "string"}, "rep_id": _NULL_STR,
        "reps": {"type": "array", "items": {"type": "string"}},
        "state": {"type": "string", "enum": ["running", "met", "breached", "stopped"]},
        "started_at": _TIME, "deadline_at": _TIME,
        "sla_left_seconds": {"type": "integer",
                             "description": "negative once past the deadline; at the stop "
                                            "for a stopped clock"},
        "next_check_at": {"type": ["string", "null"], "format": "date-time"},
        "reminders_sent": {"type": "integer"}, "stages_done": {"type": "integer"},
        "stopped_at": {"type": ["string", "null"], "format": "date-time"},
        "stopped_by": {"type": ["object", "null"],
                       "description": "source, signal, at, late, detail"},
        "events": {"type": "array", "items": _OBJ}}},
    "RoutingInsights": {"type": "object", "required": ["groups"], "properties": {
        "from": _TIME, "to": _TIME, "group_by": {"type": "string"},
        "total_leads": {"type": "integer"}, "leads_assigned": {"type": "integer"},
        "groups": {"type": "array", "items": {"type": "object", "properties": {
            "key": _NULL_STR, "leads": {"type": "integer"},
            "leads_assigned": {"type": "integer"}, "share": {"type": "number"},
            "fair_share": {"type": "number"}, "fair_share_leads": {"type": "number"},
            "weight": {"type": "number"},
            "first_activity_minutes": {"type": "object", "properties": {
                "p50": {"type": ["number", "null"]}, "p90": {"type": ["number", "null"]}}},
            "outcomes": {"type": "object",
                         "additionalProperties": {"type": "integer"}}}}}}},
    "Measures": {"type": "object", "description": "Counts and rates of one group", "properties": {
        "key": _NULL_STR, "name": _NULL_STR, "decisions": {"type": "integer"},
        "assigned": {"type": "integer"}, "unassigned": {"type": "integer"},
        "unassigned_rate": {"type": "number"}, "backup": {"type": "integer"},
        "backup_rate": {"type": "number"}, "reassignments": {"type": "integer"},
        "touched": {"type": "integer"},
        "speed_to_lead_seconds": {"type": "object", "properties": {
            "p50": {"type": ["number", "null"]}, "p90": {"type": ["number", "null"]}}},
        "sla_met": {"type": "integer"}, "sla_breached": {"type": "integer"},
        "sla_open": {"type": "integer"}, "sla_met_pct": {"type": ["number", "null"]},
        "share": {"type": "number"}, "fair_share": {"type": "number"},
        "weight": {"type": "number"}}},
    "RoutingMeasures": {"type": "object", "required": ["totals", "groups"], "properties": {
        "from": _TIME, "to": _TIME, "group_by": {"type": "string"},
        "totals": _ref("Measures"), "groups": {"type": "array", "items": _ref("Measures")},
        "sla_available": {"type": "boolean"}, "sla_note": {"type": "string"},
        "truncated": {"type": "boolean"}}},
    "NotificationChannelIn": {"type": "object", "required": ["name", "type"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "type": {"type": "string", "enum": ["slack_webhook", "slack_bot", "email", "webhook"]},
        "settings": {"type": "object", "description": "slack_bot: channel; email: smtp_host, "
                     "smtp_port, from, to, security (starttls|ssl|none), username"},
        "secrets": {"type": "object", "description": "write-only, encrypted at rest: "
                    "slack_webhook: webhook_url; slack_bot: bot_token; email: password; "
                    "webhook: url, signing_secret (whsec_...)"},
        "kinds": {"type": "array", "items": {"type": "string", "enum": [
            "sla.reminder", "sla.breach", "sla.reassigned"]}},
        "enabled": {"type": "boolean"}}},
    "NotificationChannel": {"type": "object", "required": ["id", "name", "type"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"},
        "settings": _OBJ, "secrets_set": {"type": "array", "items": {"type": "string"}},
        "kinds": {"type": "array", "items": {"type": "string"}},
        "enabled": {"type": "boolean"}, "created_at": _TIME}},
    "NotificationPreferences": {"type": "object", "properties": {
        "rep_id": {"type": "string"},
        "channel_ids": {"type": ["array", "null"], "items": {"type": "string"}},
        "muted_kinds": {"type": "array", "items": {"type": "string"}}}},
}

_ERROR_TEXT = {"401": "UNAUTHORIZED: invalid or missing API key",
               "403": "FORBIDDEN: the key lacks the scope, the account is not active, or "
                      "plain HTTP when HTTPS is required",
               "404": "NOT_FOUND: the resource does not exist (or is another account's)",
               "409": "CONFLICT", "413": "SERVER_ERROR: the body is too large",
               "415": "UNSUPPORTED_MEDIA_TYPE: not the content type the operation takes",
               "422": "VALIDATION_ERROR: every invalid field in `fields`",
               "429": "RATE_LIMITED: too many requests for this key; see Retry-After",
               "500": "SERVER_ERROR",
               "503": "SERVER_ERROR: the instance lacks a setting this needs (the message "
                      "names it)"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _page(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["data", "next_cursor"], "properties": {
        "data": {"type": "array", "items": _ref(item)}, "next_cursor": _NULL_STR}}


def _op(endpoint: str, summary: str, ok: dict[str, Any], *, body: str | None = None,
        params: tuple[dict[str, Any], ...] = (), errors: tuple[str, ...] = ()) -> dict:
    scope = SCOPE_OF[f"v1.{endpoint}"]
    responses = dict(ok)
    for code in ("401", "403", "429", "500", *errors):
        response: dict[str, Any] = {"description": _ERROR_TEXT[code], **_json(_ref("Error"))}
        if code == "429":
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                   "description": "seconds to wait"}}
        responses[code] = response
    op: dict[str, Any] = {"summary": summary, "description": f"Scope: `{scope}` (or `*`).",
                          "operationId": endpoint, "x-scope": scope, "responses": responses}
    if params:
        op["parameters"] = list(params)
    if body:
        op["requestBody"] = {"required": True, **_json(_ref(body))}
    if (body or params or "{" in endpoint) and "422" not in errors:
        # a value no field can hold (a NUL, an unpaired surrogate, JSON nested too deep, an
        # integer beyond 64 bits) is refused before any view, in the path and query too
        responses["422"] = {"description": _ERROR_TEXT["422"], **_json(_ref("Error"))}
    return op


def _ok(code: str, description: str, schema: dict[str, Any] | None = None) -> dict:
    return {code: {"description": description, **(_json(schema) if schema else {})}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


_LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": 100})
_CURSOR = _query("cursor", {"type": "string"}, "next_cursor of the previous page")
_MEASURE_Q = (_query("from", {"type": "string", "format": "date-time"}),
              _query("to", {"type": "string", "format": "date-time"}),
              _query("group_by", {"type": "string", "enum": ["router", "rep", "day", "total"]}))


def spec() -> dict[str, Any]:
    from . import openapi_routing

    models = [RepIn, RepPatch, RulesetIn, RulesetPatch, LeadIn, LeadSample, ContactIn,
              ContactPatch,
              ActivityIn, SlaMonitorIn, SlaMonitorPatch, *openapi_routing.MODELS]
    _, schemas = models_json_schema([(m, "validation") for m in models],
                                    ref_template=_REF + "{model}")
    components = {**schemas.get("$defs", {}), **_RESPONSES, **openapi_routing.SCHEMAS}
    rep, ruleset = _path("rep_id"), _path("ruleset_id")
    paths = {
        "/reps": {
            "get": _op("list_reps", "List all representatives", _ok(
                "200", "An array of reps; `Link`/`X-Next-Cursor` when there are more",
                {"type": "array", "items": _ref("RepSummary")}),
                params=(_query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                        _CURSOR), errors=("422",)),
            "post": _op("create_rep", "Create a rep", _ok("201", "Created", _ref("Rep")),
                        body="RepIn", errors=("409",))},
        "/reps/{rep_id}": {
            "get": _op("get_rep", "Get a rep", _ok("200", "The rep", _ref("Rep")),
                       params=(rep,), errors=("404",)),
            "patch": _op("patch_rep", "Update a rep", _ok("200", "Updated", _ref("Rep")),
                         body="RepPatch", params=(rep,), errors=("404", "409")),
            "delete": _op("delete_rep", "Delete a rep (and take them out of every router)",
                          _ok("204", "Deleted"), params=(rep,), errors=("404",))},
        "/rules": {
            "get": _op("list_rulesets", "List rulesets", _ok("200", "Rulesets",
                                                             _page("Ruleset"))),
            "post": _op("create_ruleset", "Create a ruleset",
                        _ok("201", "Created", _ref("Ruleset")), body="RulesetIn")},
        "/rules/{ruleset_id}": {
            "get": _op("get_ruleset", "Get a ruleset", _ok("200", "The ruleset",
                                                           _ref("Ruleset")),
                       params=(ruleset,), errors=("404",)),
            "patch": _op("patch_ruleset", "Change a ruleset (a new version when its rules "
                         "change)", _ok("200", "Updated", _ref("Ruleset")),
                         body="RulesetPatch", params=(ruleset,), errors=("404",)),
            "delete": _op("delete_ruleset", "Delete a ruleset", _ok("204", "Deleted"),
                          params=(ruleset,), errors=("404",))},
        "/rules/{ruleset_id}/activate": {
            "post": _op("activate_ruleset", "Make this the account's active ruleset",
                        _ok("200", "Activated", _ref("Ruleset")), params=(ruleset,),
                        errors=("404",))},
        "/rules/{ruleset_id}/deactivate": {
            "post": _op("deactivate_ruleset", "Deactivate", _ok("200", "Deactivated",
                                                                _ref("Ruleset")),
                        params=(ruleset,), errors=("404",))},
        "/rules/{ruleset_id}/versions": {
            "get": _op("ruleset_versions", "Every version of a ruleset",
                       _ok("200", "Versions", {"type": "object"}), params=(ruleset,),
                       errors=("404",))},
        "/rules/{ruleset_id}/test": {
            "post": _op("test_ruleset", "Run the ruleset on a sample lead; writes nothing",
                        _ok("200", "The decision and its reason", _ref("TestResult")),
                        body="LeadSample", params=(ruleset,), errors=("404",))},
        "/leads": {
            "post": _op("create_lead", "Ingest a lead and distribute it with the active "
                        "ruleset", {**_ok("201", "Created and routed", _ref("Lead")),
                                    **_ok("200", "A replay of the same Idempotency-Key, or a "
                                          "duplicate email within the window", _ref("Lead"))},
                        body="LeadIn", errors=("409",), params=(
                            {"name": "Idempotency-Key", "in": "header", "required": False,
                             "schema": {"type": "string", "minLength": 1, "maxLength": 200}},)),
            "get": _op("list_leads", "List leads, newest first", _ok("200", "A page",
                                                                      _page("Lead")),
                       params=(_LIMIT, _CURSOR, _query("owner_id", {"type": "string"}),
                               _query("email", {"type": "string"}),
                               _query("rule_id", {"type": "string"}),
                               _query("created_from", {"type": "string",
                                                       "format": "date-time"}),
                               _query("created_to", {"type": "string",
                                                     "format": "date-time"})),
                       errors=("422",))},
        "/leads/{lead_id}": {
            "get": _op("get_lead", "Get a lead", _ok("200", "The lead", _ref("Lead")),
                       params=(_path("lead_id"),), errors=("404",))},
        "/contacts": {
            "post": _op("upsert_contact", "Upsert a contact by external id or email",
                        {**_ok("201", "Created", _ref("Contact")),
                         **_ok("200", "Updated", _ref("Contact"))}, body="ContactIn",
                        errors=("409",))},
        "/contacts/{contact_id}": {
            "get": _op("get_contact", "Get a contact", _ok("200", "The contact",
                                                           _ref("Contact")),
                       params=(_path("contact_id"),), errors=("404",)),
            "patch": _op("patch_contact", "Change an API contact; a new status stops its "
                         "\"status changed\" SLA clocks", _ok("200", "Updated",
                                                              _ref("Contact")),
                         body="ContactPatch", params=(_path("contact_id"),),
                         errors=("404", "409"))},
        "/contacts/{contact_id}/activities": {
            "post": _op("log_activity", "Log a call, meeting, email or note",
                        _ok("201", "Logged", _ref("Activity")), body="ActivityIn",
                        params=(_path("contact_id"),), errors=("404",)),
            "get": _op("list_activities", "A contact's activities, newest first",
                       _ok("200", "A page", _page("Activity")),
                       params=(_path("contact_id"), _LIMIT, _CURSOR),
                       errors=("404", "422"))},
        "/sla-monitors": {
            "get": _op("list_sla_monitors", "List SLA monitors",
                       _ok("200", "Monitors", _page("SlaMonitor"))),
            "post": _op("create_sla_monitor", "Create an SLA monitor on a router or a ruleset",
                        _ok("201", "Created", _ref("SlaMonitor")), body="SlaMonitorIn")},
        "/sla-monitors/{monitor_id}": {
            "get": _op("get_sla_monitor", "Get an SLA monitor",
                       _ok("200", "The monitor", _ref("SlaMonitor")),
                       params=(_path("monitor_id"),), errors=("404",)),
            "patch": _op("patch_sla_monitor", "Change an SLA monitor (running clocks keep "
                         "their deadline)", _ok("200", "Updated", _ref("SlaMonitor")),
                         body="SlaMonitorPatch", params=(_path("monitor_id"),),
                         errors=("404",)),
            "delete": _op("delete_sla_monitor", "Delete an SLA monitor and its clocks",
                          _ok("204", "Deleted"), params=(_path("monitor_id"),),
                          errors=("404",))},
        "/contacts/{contact_id}/sla": {
            "get": _op("contact_sla", "A contact's SLA clocks and what stopped each",
                       _ok("200", "Clocks", _page("SlaClock")),
                       params=(_path("contact_id"),), errors=("404",))},
        "/insights/routing": {
            "get": _op("routing_insights", "Leads, shares, response times and outcomes",
                       _ok("200", "The report", _ref("RoutingInsights")), params=(
                           _query("from", {"type": "string", "format": "date-time"}),
                           _query("to", {"type": "string", "format": "date-time"}),
                           _query("group_by", {"type": "string",
                                               "enum": ["rep", "rule", "day"]})),
                       errors=("422",))},
        "/insights/measures": {
            "get": _op("routing_measures", "Speed to lead, SLA met %, breaches, "
                       "reassignments, fair shares, unassigned and backup-user rates",
                       _ok("200", "The report", _ref("RoutingMeasures")), params=_MEASURE_Q,
                       errors=("422",))},
        "/insights/measures.csv": {
            "get": _op("routing_measures_csv", "The same measures as CSV (a row per group "
                       "and a total row)", {"200": {"description": "CSV", "content": {
                           "text/csv": {"schema": {"type": "string"}}}}},
                       params=_MEASURE_Q, errors=("422",))},
        "/notification-channels": {
            "get": _op("list_notification_channels", "The account's notification channels "
                       "(secrets never shown)", _ok("200", "Channels", {
                           "type": "object", "properties": {"data": {
                               "type": "array", "items": _ref("NotificationChannel")}}})),
            "post": _op("create_notification_channel", "Add a Slack, email or webhook channel",
                        _ok("201", "Created", _ref("NotificationChannel")),
                        body="NotificationChannelIn", errors=("409",))},
        "/notification-channels/{channel_id}": {
            "delete": _op("delete_notification_channel", "Remove a channel",
                          _ok("204", "Deleted"), params=(_path("channel_id"),),
                          errors=("404",))},
        "/reps/{rep_id}/notification-preferences": {
            "put": _op("put_notification_preferences", "A rep's channels and muted kinds",
                       _ok("200", "Saved", _ref("NotificationPreferences")),
                       body="NotificationPreferences", params=(rep,), errors=("404",))},
        **openapi_routing.paths(),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lead routing API (Routeswit-compatible)", "version": "1",
                 "description": "Base URL `https://host/v1`. Authenticate with "
                                "`Authorization: Bearer <API key>`; scopes: "
                                + ", ".join(f"`{s}`" for s in SCOPES) + "."},
        "servers": [{"url": "/v1"}],
        "security": [{"apiKey": []}],
        "components": {"schemas": components, "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


def _renamed(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (_REF + "V1" + v.removeprefix(_REF)
                    if k == "$ref" and isinstance(v, str) and v.startswith(_REF)
                    else _renamed(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v) for v in node]
    return node


def for_root() -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, schemas) of /v1 as the root /openapi.json lists them: paths under /v1,
    schemas prefixed ``V1``, each operation with the API-key security it takes."""
    v1 = spec()
    security = [{"apiKey": []}]
    paths = {"/v1/openapi.json": {"get": {
        "summary": "The /v1 API's own OpenAPI document", "security": [],
        "responses": {"200": {"description": "OpenAPI 3.1", **_json(_OBJ)}}}}}
    for path, operations in _renamed(v1["paths"]).items():
        paths["/v1" + path] = {method: {**op, "security": security,
                                        "operationId": "v1_" + op["operationId"]}
                               for method, op in operations.items()}
    schemas = {"V1" + name: schema for name, schema in
               _renamed(v1["components"]["schemas"]).items()}
    return paths, schemas


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(spec())
