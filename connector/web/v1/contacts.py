"""``/v1/contacts``: upsert and read contacts; log and list their activities."""

from __future__ import annotations

from flask import g, jsonify

from connector.service import activities as service

from ..common import container
from . import bp, now, render, scoped
from .common import body, encode_cursor, internal, limit_arg, time_cursor
from .schemas import ActivityIn, ContactIn, ContactPatch


@bp.post("/contacts")
@scoped("contacts:write")
def upsert_contact():
    """201 when created, 200 when an existing contact (same external id or email) was
    updated."""
    result = service.upsert_contact(container().db, g.account_id,
                                    body(ContactIn).model_dump(mode="json"), now())
    return jsonify(render.contact(result.contact)), 201 if result.created else 200


@bp.patch("/contacts/<contact_id>")
@scoped("contacts:write")
def patch_contact(contact_id: str):
    """Change an API contact; a new ``status`` stops its "status changed" SLA clocks."""
    values = body(ContactPatch).model_dump(mode="json", exclude_unset=True)
    row = service.patch_contact(container().db, g.account_id,
                                internal("contact", contact_id), values, now())
    return jsonify(render.contact(row))


@bp.get("/contacts/<contact_id>")
@scoped("contacts:read")
def get_contact(contact_id: str):
    return jsonify(render.contact(service.get_contact(container().db, g.account_id,
                                                      internal("contact", contact_id))))


@bp.post("/contacts/<contact_id>/activities")
@scoped("activities:write")
def log_activity(contact_id: str):
    data = body(ActivityIn)
    values = data.model_dump()
    values["rep_id"] = internal("rep", values.get("rep_id"))
    row = service.log_activity(container().db, g.account_id, internal("contact", contact_id),
                               values, now())
    return jsonify(render.activity(row)), 201


@bp.get("/contacts/<contact_id>/activities")
@scoped("activities:read")
def list_activities(contact_id: str):
    """Newest first (by ``occurred_at``), paged with ``limit`` and ``cursor``."""
    limit = limit_arg()
    rows = service.list_activities(container().db, g.account_id,
                                   internal("contact", contact_id), limit=limit,
                                   before=time_cursor())
    cursor = encode_cursor(rows[-1].occurred_at.isoformat(), rows[-1].id) \
        if len(rows) == limit else None
    return jsonify({"data": [render.activity(r) for r in rows], "next_cursor": cursor})
