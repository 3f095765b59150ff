"""Contacts and tickets through the API: validation of the ``fields`` map, duplicate
rules, archive, and the flat response shape of the seed documents."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.core.model import OWNER_FIELDS
from connector.store.db import is_unique_violation
from connector.store.models import FieldDefinitionRow, ObjectRow, RepRow

#: Built-in fields per object type and their types.
SYSTEM_FIELDS: dict[str, dict[str, str]] = {
    "contact": {
        "first_name": "string", "last_name": "string", "email": "email", "phone": "string",
        "company": "string", "website_url": "string", "job_title": "string",
        "lifecycle_stage": "string", "lead_status": "string", "lead_source": "string",
        "country": "string", "state": "string", "city": "string",
        "annual_revenue": "number", "num_employees": "number",
    },
    "ticket": {
        "ticket_name": "string", "ticket_stage": "string", "pipeline": "string",
        "priority": "string", "category": "string", "description": "string",
        "source": "string",
    },
}
#: Fields the system sets; a client may never write them.
READ_ONLY = {"id", "created_at", "updated_at", "archived", "archived_by", "owner_assigned_at"}
FIELD_TYPES = ("string", "number", "boolean", "date", "datetime", "enum", "email")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_reserved_field(name: str) -> bool:
    """A name the system sets (id, timestamps, archive marks, any object's owner field):
    never written by a client, never the name of a custom field."""
    return name in READ_ONLY or name in OWNER_FIELDS.values()


class ObjectError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def iso(dt: datetime) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the seed documents show."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


@dataclass
class FieldSpec:
    name: str
    type: str
    options: list[Any]


def field_specs(session: Session, account_id: str, object_type: str) -> dict[str, FieldSpec]:
    specs = {name: FieldSpec(name, kind, []) for name, kind in
             SYSTEM_FIELDS[object_type].items()}
    rows = session.scalars(select(FieldDefinitionRow).where(
        FieldDefinitionRow.account_id == account_id,
        FieldDefinitionRow.object_type == object_type))
    for row in rows:
        specs[row.internal_name] = FieldSpec(row.internal_name, row.type, list(row.options))
    return specs


def _coerce(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    kind = spec.type
    bad = ObjectError(400, f"Validation failed: field '{spec.name}' must be "
                           f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}")
    if kind in ("string", "email"):
        if not isinstance(value, str):
            raise bad
        value = value.strip()
        if kind == "email" and value and not _EMAIL.match(value):
            raise ObjectError(400, f"Validation failed: field '{spec.name}' must be a valid "
                                   "email address")
        return value or None
    if kind == "number":
        # NaN and Infinity are no numbers a CRM can hold, and not valid JSON to answer with
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise bad
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad
        return value
    if kind in ("date", "datetime"):
        if not isinstance(value, str):
            raise bad
        try:
            parsed = (date.fromisoformat(value) if kind == "date"
                      else datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            raise bad from None
        return parsed.isoformat()
    if kind == "enum":
        if value not in spec.options:
            raise ObjectError(400, f"Validation failed: field '{spec.name}' must be one of "
                                   f"{', '.join(map(str, spec.options))}")
        return value
    raise bad


def validate_fields(session: Session, account_id: str, object_type: str,
                    payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or not isinstance(payload.get("fields"), dict):
        raise ObjectError(400, "Invalid body: 'fields' must be an object")
    unexpected = set(payload) - {"fields"}
    if unexpected:
        raise ObjectError(400, f"Unknown property: {sorted(unexpected)[0]}")
    specs = field_specs(session, account_id, object_type)
    clean: dict[str, Any] = {}
    for name, value in payload["fields"].items():
        if is_reserved_field(name):
            raise ObjectError(400, f"Field '{name}' is a system field and cannot be set")
        if name == "external_id":
            if value is not None and not isinstance(value, str | int):
                raise ObjectError(400, "Validation failed: field 'external_id' must be a string")
            clean[name] = None if value is None else str(value)
            continue
        spec = specs.get(name)
        if spec is None:
            raise ObjectError(400, f"Unknown field: {name}")
        clean[name] = _coerce(spec, value)
    return clean


def _check_required(object_type: str, values: dict[str, Any]) -> None:
    if object_type == "contact" and not any(values.get(k) for k in
                                            ("email", "first_name", "last_name")):
        raise ObjectError(400, "Validation failed: at least one of email, first_name or "
                               "last_name is required")
    if object_type == "ticket":
        missing = [k for k in ("ticket_name", "ticket_stage", "pipeline") if not values.get(k)]
        if missing:
            raise ObjectError(400, "Validation failed: missing required field"
                                   f"{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")


_UNIQUE = ("email", "website_url", "external_id")


def _check_duplicates(session: Session, account_id: str, object_type: str,
                      values: dict[str, Any], exclude_id: str | None = None) -> None:
    for key in _UNIQUE:
        value = values.get(key)
        if not value:
            continue
        column = getattr(ObjectRow, key)
        query = select(ObjectRow.id).where(
            ObjectRow.account_id == account_id, ObjectRow.object_type == object_type,
            ObjectRow.archived_at.is_(None), column == value)
        if exclude_id:
            query = query.where(ObjectRow.id != exclude_id)
        if session.scalars(query).first() is not None:
            raise ObjectError(409, f"A {object_type} with this {key} already exists")


def _apply(row: ObjectRow, values: dict[str, Any]) -> None:
    merged = dict(row.fields or {})
    for key, value in values.items():
        if key == "external_id":
            row.external_id = value
        else:
            merged[key] = value
    merged = {k: v for k, v in merged.items() if v is not None}
    row.fields = merged
    row.email = (merged.get("email") or "").lower() or None
    row.website_url = merged.get("website_url")


def create(session: Session, account_id: str, object_type: str, payload: Any) -> ObjectRow:
    values = validate_fields(session, account_id, object_type, payload)
    if values.get("email"):
        values["email"] = values["email"].lower()
    _check_required(object_type, values)
    _check_duplicates(session, account_id, object_type, values)
    now = datetime.now(UTC)
    row = ObjectRow(account_id=account_id, object_type=object_type, fields={},
                    created_at=now, updated_at=now, source="api")
    _apply(row, values)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise ObjectError(409, f"A {object_type} with this email, website_url or external_id "
                               "already exists") from None
    return row


def update(session: Session, row: ObjectRow, payload: Any) -> ObjectRow:
    values = validate_fields(session, row.account_id, row.object_type, payload)
    if values.get("email"):
        values["email"] = values["email"].lower()
    merged = {**row.fields, "external_id": row.external_id, **values}
    _check_required(row.object_type, merged)
    if row.archived_at is None:
        _check_duplicates(session, row.account_id, row.object_type, values, exclude_id=row.id)
    _apply(row, values)
    row.updated_at = datetime.now(UTC)
    try:
        session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise ObjectError(409, f"A {row.object_type} with this email, website_url or "
                               "external_id already exists") from None
    return row


def archive(session: Session, row: ObjectRow, archived_by: str) -> ObjectRow:
    if row.archived_at is None:
        row.archived_at = row.updated_at = datetime.now(UTC)
        row.archived_by = archived_by
    return row


def restore(session: Session, row: ObjectRow) -> ObjectRow:
    if row.archived_at is not None:
        values = {k: getattr(row, k) for k in _UNIQUE}
        _check_duplicates(session, row.account_id, row.object_type, values, exclude_id=row.id)
        row.archived_at = row.archived_by = None
        row.updated_at = datetime.now(UTC)
    return row


def to_response(session: Session, row: ObjectRow) -> dict[str, Any]:
    owner_field = OWNER_FIELDS.get(row.object_type, f"{row.object_type}_owner")
    owner = session.get(RepRow, row.owner_rep_id) if row.owner_rep_id else None
    body: dict[str, Any] = {
        "id": row.id, "external_id": row.external_id,
        "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
        "archived": iso(row.archived_at) if row.archived_at else False,
    }
    if row.archived_at:
        body["archived_by"] = row.archived_by
    for name in SYSTEM_FIELDS.get(row.object_type, {}):
        body.setdefault(name, row.fields.get(name))
    body.update({k: v for k, v in row.fields.items() if k not in body})
    body[owner_field] = owner.email if owner else None
    return body


def page(session: Session, account_id: str, object_type: str, *, limit: int,
         after: str | None, include_archived: bool) -> tuple[list[ObjectRow], str | None]:
    """Keyset paging on (created_at, id); ``after`` is the last id of the previous page."""
    query = select(ObjectRow).where(ObjectRow.account_id == account_id,
                                    ObjectRow.object_type == object_type)
    if not include_archived:
        query = query.where(ObjectRow.archived_at.is_(None))
    if after:
        anchor = session.get(ObjectRow, after)
        if anchor is None or anchor.account_id != account_id:
            raise ObjectError(400, "Invalid cursor: 'after' does not name a record")
        query = query.where(or_(ObjectRow.created_at > anchor.created_at,
                                (ObjectRow.created_at == anchor.created_at)
                                & (ObjectRow.id > anchor.id)))
    rows = list(session.scalars(query.order_by(ObjectRow.created_at, ObjectRow.id)
                                .limit(limit + 1)))
    next_after = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_after
