"""The routing depth part of ``/v1/openapi.json`` (connector/web/v1/routing.py)."""

from __future__ import annotations

from typing import Any

from .calendars import CalendarFeedIn
from .openapi import _CURSOR, _NULL_STR, _OBJ, _TIME, _json, _ok, _op, _page, _path, _query, _ref
from .routing import BacktestIn, CalibrationIn, CompanyIn, MatchIn

MODELS = [CompanyIn, MatchIn, CalibrationIn, BacktestIn, CalendarFeedIn]
_INT_OR_NULL = {"type": ["integer", "null"]}
_LIST = {"type": "array", "items": {"type": "string"}}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Company": {"type": "object", "required": ["id", "name", "source", "external_id"],
                "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "domain": _NULL_STR, "website": _NULL_STR, "size": _INT_OR_NULL,
                    "owner_rep_id": _NULL_STR,
                    "account_team": {"type": "object",
                                     "additionalProperties": {"type": "string"}},
                    "last_activity_at": _NULL_STR, "source": {"type": "string"},
                    "external_id": {"type": "string"}, "created_at": _TIME}},
    "MatchResult": {"type": "object", "required": ["matched", "message", "candidates"],
                    "properties": {
                        "matched": {"type": ["object", "null"]},
                        "message": {"type": "string"},
                        "candidates": {"type": "array", "items": {
                            "type": "object", "required": ["company", "key", "score"],
                            "properties": {"company": _OBJ, "key": {"type": "string", "enum": [
                                "email_domain", "website", "name"]},
                                "value": {"type": "string"}, "score": {"type": "number"},
                                "reason": {"type": "string"}}}},
                        "ignored": _LIST}},
    "Territory": {"type": "object", "required": ["name", "assign_to"], "properties": {
        "name": {"type": "string"}, "assign_to": {"type": "string"},
        "priority": {"type": "integer"}, "countries": _LIST, "regions": _LIST,
        "postcodes": _LIST, "industries": _LIST, "min_employees": _INT_OR_NULL,
        "max_employees": _INT_OR_NULL, "row": {"type": "integer"}}},
    "TerritoryImport": {"type": "object", "required": ["imported"], "properties": {
        "imported": {"type": "integer"}, "overlaps": {"type": "integer"},
        "ambiguous": {"type": "integer"}}},
    "Overlap": {"type": "object", "required": ["first", "second", "winner", "why"],
                "properties": {"first": {"type": "string"}, "second": {"type": "string"},
                               "winner": {"type": "string"}, "why": {"type": "string"},
                               "ambiguous": {"type": "boolean"}}},
    "Backtest": {"type": "object", "required": ["records", "per_rep", "changed"],
                 "properties": {
                     "router_id": {"type": "string"}, "records": {"type": "integer"},
                     "outcomes": {"type": "object",
                                  "additionalProperties": {"type": "integer"}},
                     "per_rep": {"type": "array", "items": {"type": "object", "properties": {
                         "rep_id": {"type": "string"}, "email": _NULL_STR,
                         "would": {"type": "integer"}, "actual": {"type": "integer"},
                         "difference": {"type": "integer"}}}},
                     "changed_count": {"type": "integer"},
                     "changed": {"type": "array", "items": {"type": "object", "properties": {
                         "record_id": {"type": "string"}, "at": {"type": "string"},
                         "outcome": {"type": "string"}, "would_rep_id": _NULL_STR,
                         "actual_rep_id": _NULL_STR}}}}},
    "CalendarFeed": {"type": "object", "required": ["rep_id", "status"], "properties": {
        "rep_id": {"type": "string"}, "status": {"type": "string", "enum": [
            "ok", "not fetched yet", "failing, using last good copy",
            "failing, no copy yet"]},
        "fetched_at": _NULL_STR, "failed_at": _NULL_STR, "last_error": _NULL_STR,
        "has_copy": {"type": "boolean"}}},
    "Calibration": {"type": "object", "required": ["id", "rep_id", "delta", "by", "why"],
                    "properties": {"id": {"type": "string"}, "router_id": {"type": "string"},
                                   "rep_id": {"type": "string"},
                                   "delta": {"type": "integer"}, "by": {"type": "string"},
                                   "why": {"type": "string"}, "created_at": _TIME}},
}


def _list(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["data"],
            "properties": {"data": {"type": "array", "items": _ref(item)}}}


def paths() -> dict[str, Any]:
    company, router = _path("company_id"), _path("router_id")
    csv = {"required": True, "content": {"text/csv": {"schema": {
        "type": "string", "description": "name,assign_to,priority,countries,regions,"
                                         "postcodes,industries,min_employees,max_employees"}}}}
    import_op = _op("import_territories", "Replace the territory table with a CSV; every "
                    "problem (row, column) at once, nothing stored if any",
                    _ok("201", "Imported", _ref("TerritoryImport")), errors=("413", "415",
                                                                            "422"))
    import_op["requestBody"] = csv
    return {
        "/companies": {
            "post": _op("create_company", "Add a company (an API-only account) to match "
                        "leads against", _ok("201", "Created", _ref("Company")),
                        body="CompanyIn", errors=("409",)),
            "get": _op("list_companies", "List companies, oldest first",
                       _ok("200", "A page", _page("Company")), params=(
                           _query("limit", {"type": "integer", "minimum": 1,
                                            "maximum": 500}), _CURSOR), errors=("422",))},
        "/companies/{company_id}": {
            "get": _op("get_company", "Get a company", _ok("200", "The company",
                                                           _ref("Company")),
                       params=(company,), errors=("404",)),
            "delete": _op("delete_company", "Delete a company", _ok("204", "Deleted"),
                          params=(company,), errors=("404",))},
        "/match": {
            "post": _op("match", "The companies a lead matches, with score and reason; "
                        "writes nothing", _ok("200", "Candidates", _ref("MatchResult")),
                        body="MatchIn")},
        "/territories/import": {"post": import_op},
        "/territories": {
            "get": _op("list_territories", "The territory table, in row order",
                       _ok("200", "Territories", _list("Territory")))},
        "/territories/overlaps": {
            "get": _op("territory_overlaps", "Pairs of territories one record could be "
                       "in: which wins and why", _ok("200", "Overlaps", _list("Overlap")))},
        "/reps/{rep_id}/calendar": {
            "put": _op("set_calendar", "Give a rep an ICS feed (stored encrypted, never "
                       "shown again)", _ok("200", "The feed's status", _ref("CalendarFeed")),
                       body="CalendarFeedIn", params=(_path("rep_id"),),
                       errors=("404", "503")),
            "get": _op("get_calendar", "The rep's feed status: ok, or failing and using the "
                       "last good copy", _ok("200", "Status", _ref("CalendarFeed")),
                       params=(_path("rep_id"),), errors=("404",)),
            "delete": _op("delete_calendar", "Remove the rep's feed", _ok("204", "Removed"),
                          params=(_path("rep_id"),), errors=("404",))},
        "/backtests": {
            "post": _op("run_backtest", "Run a router version (saved or draft) over existing "
                        "records chosen by a filter; writes nothing",
                        _ok("200", "Per-rep table and changed records", _ref("Backtest")),
                        body="BacktestIn", errors=("404",))},
        "/routers/{router_id}/calibrations": {
            "post": _op("create_calibration", "Calibrate a rep's fairness balance (+n owed "
                        "more, -n fewer), with who and why",
                        _ok("201", "Recorded", _ref("Calibration")), body="CalibrationIn",
                        params=(router,), errors=("404",)),
            "get": _op("list_calibrations", "The calibration audit and balances",
                       _ok("200", "Audit", {**_list("Calibration"), "properties": {
                           **_list("Calibration")["properties"],
                           "balances": {"type": "array", "items": _OBJ}}}),
                       params=(router,), errors=("404",))},
    }


__all__ = ["MODELS", "SCHEMAS", "_json", "paths"]
