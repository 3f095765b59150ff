"""Contacts and their activity history through /v1.

``POST /v1/contacts`` upserts: the contact with the given ``external_id``, else with the
given ``email``, is updated; otherwise one is created. They are the same contacts the
Routera API and the routers see. A contact mirrored from a CRM is matched but its fields
are not changed here (the CRM is the truth for them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from connector.store import leads_repo as repo
from connector.store import reps_repo
from connector.store.db import Database, is_unique_violation
from connector.store.models import ActivityRow, ObjectRow
from connector.store.reads import detached

from . import sla
from .v1_errors import V1Error

TYPES = ("CALL", "MEETING", "EMAIL", "NOTE")
OUTCOMES = ("POSITIVE", "NEUTRAL", "NEGATIVE", "NO_ANSWER")
#: the SLA signal of each activity type: a call, an email or a meeting reaches the lead
#: (as HubSpot's "last contacted" counts them); a note is written about it, not to it
TOUCHES = {"CALL": "touch", "EMAIL": "touch", "MEETING": "meeting"}
#: the contact field holding the lead's status, set by ``PATCH /v1/contacts/{id}``
STATUS = "status"


@dataclass(frozen=True)
class Upserted:
    contact: ObjectRow
    created: bool


def upsert_contact(db: Database, account_id: str, values: dict[str, Any],
                   now: datetime | None = None) -> Upserted:
    fields = {k: v for k, v in values.items() if k not in ("email", "external_id", "fields")
              and v is not None}
    fields.update(values.get("fields") or {})
    try:
        with db.session() as session:
            row = repo.contact_by(session, account_id, email=values.get("email"),
                                  external_id=values.get("external_id"))
            if row is None:
                row = ObjectRow(account_id=account_id, object_type=repo.CONTACT,
                                source="api", email=values.get("email"),
                                external_id=values.get("external_id"), fields=fields)
                repo.add(session, row)
                return Upserted(row, True)
            if row.source == "api":
                if values.get("email"):
                    row.email = values["email"]
                if values.get("external_id"):
                    row.external_id = values["external_id"]
                before = row.fields.get(STATUS)
                row.fields = {**row.fields, **fields}
                _status_signal(session, row, before, now or datetime.now(UTC))
                session.flush()
            return Upserted(row, False)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise V1Error(409, "Another contact already has this email or external_id") from None


def _status_signal(session, row: ObjectRow, before: Any, at: datetime) -> None:
    """A new ``status`` is the "status changed" SLA signal (as HubSpot's Lead Status is)."""
    after = row.fields.get(STATUS)
    if after is not None and after != before:
        sla.record_touch(session, row.account_id, row.id, "status", at, source="api",
                         detail={"status": after, "previous": before})


def patch_contact(db: Database, account_id: str, contact_id: str, values: dict[str, Any],
                  now: datetime) -> ObjectRow:
    """Change an API contact's fields; a CRM's contact is refused, its CRM being the truth
    for them (its status comes from the CRM's own signal)."""
    fields = {k: v for k, v in values.items() if k != "fields" and v is not None}
    fields.update(values.get("fields") or {})
    with db.session() as session:
        row = repo.contact(session, account_id, contact_id)
        if row is None:
            raise V1Error(404, "Contact not found")
        if row.source != "api":
            raise V1Error(409, f"This contact is mirrored from {row.source}: change it there "
                          "(its status arrives with the CRM's own changes)")
        before = row.fields.get(STATUS)
        row.fields = {**row.fields, **fields}
        row.updated_at = now
        _status_signal(session, row, before, now)
        session.flush()
        return row


def get_contact(db: Database, account_id: str, contact_id: str) -> ObjectRow:
    with detached(db) as session:
        row = repo.contact(session, account_id, contact_id)
    if row is None:
        raise V1Error(404, "Contact not found")
    return row


def log_activity(db: Database, account_id: str, contact_id: str, values: dict[str, Any],
                 now: datetime) -> ActivityRow:
    with db.session() as session:
        if repo.contact(session, account_id, contact_id) is None:
            raise V1Error(404, "Contact not found")
        rep_id = values.get("rep_id")
        if rep_id and reps_repo.get(session, account_id, rep_id) is None:
            raise V1Error(422, "The request body was invalid or contained errors.",
                          {"rep_id": "no rep with this id"})
        row = ActivityRow(account_id=account_id, contact_id=contact_id, type=values["type"],
                          notes=values.get("notes") or "", outcome=values.get("outcome"),
                          occurred_at=values.get("occurred_at") or now, rep_id=rep_id,
                          created_at=now)
        repo.add(session, row)
        signal = TOUCHES.get(row.type)
        if signal is not None:
            sla.record_touch(session, account_id, contact_id, signal, row.occurred_at,
                             source="api", detail={"activity_id": row.id, "type": row.type})
        return row


def list_activities(db: Database, account_id: str, contact_id: str, *, limit: int,
                    before: tuple[datetime, str] | None) -> list[ActivityRow]:
    with detached(db) as session:
        if repo.contact(session, account_id, contact_id) is None:
            raise V1Error(404, "Contact not found")
        return repo.activities_page(session, account_id, contact_id, limit=limit,
                                    before=before)
