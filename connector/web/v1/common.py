"""Parsing for /v1: bodies (every invalid field named), paging cursors and ids."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from connector.service.v1_errors import V1Error

M = TypeVar("M", bound=BaseModel)
INVALID = "The request body was invalid or contained errors."
PREFIXES = {"rep": "rep_", "lead": "lead_", "ruleset": "rs_", "contact": "con_",
            "activity": "act_", "key": "key_", "sla_monitor": "sla_"}


def public(kind: str, value: str | None) -> str | None:
    return None if value is None else PREFIXES[kind] + value


def internal(kind: str, value: str | None) -> str | None:
    """An id as sent (``rep_…``, or the bare id the Routera API shows) → the stored id."""
    if value is None:
        return None
    return value.removeprefix(PREFIXES[kind])


def _describe(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "required"
    if error["type"] == "string_pattern_mismatch":  # the only patterns are emails
        return "must be an email address"
    return str(error["msg"]).removeprefix("Value error, ")


def body(model: type[M]) -> M:
    """The JSON body validated by ``model``; 422 naming every invalid field."""
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise V1Error(422, INVALID, {"body": "must be a JSON object"})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "body"
            fields.setdefault(where, _describe(error))
        raise V1Error(422, INVALID, fields) from None


def limit_arg(default: int = 50, high: int = 100) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise V1Error(422, "Invalid query parameter 'limit'",
                      {"limit": f"must be a whole number from 1 to {high}"})
    return int(raw)


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def cursor_arg(count: int) -> list[str] | None:
    raw = request.args.get("cursor")
    if raw is None:
        return None
    try:
        parts = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().split("|")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        parts = []
    if len(parts) != count:
        raise V1Error(422, "Invalid query parameter 'cursor'",
                      {"cursor": "not a cursor this API returned"})
    return parts


def time_cursor() -> tuple[datetime, str] | None:
    parts = cursor_arg(2)
    if parts is None:
        return None
    try:
        return datetime.fromisoformat(parts[0]), parts[1]
    except ValueError:
        raise V1Error(422, "Invalid query parameter 'cursor'",
                      {"cursor": "not a cursor this API returned"}) from None


def datetime_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or value.year < 1970:
        raise V1Error(422, f"Invalid query parameter '{name}'",
                      {name: "must be an ISO 8601 date-time with a time zone, from 1970 "
                             "on, e.g. 2026-12-01T00:00:00Z"})
    return value
