"""``/v1/leads``: ingest and distribute a lead; list and read leads."""

from __future__ import annotations

from datetime import timedelta

from flask import g, jsonify, request

from connector.service import leads as service
from connector.service.v1_errors import V1Error

from ..common import container
from . import bp, now, render, scoped
from .common import body, datetime_arg, encode_cursor, internal, limit_arg, time_cursor
from .schemas import LeadIn

MAX_KEY = 200


@bp.post("/leads")
@scoped("leads:write")
def create_lead():
    """201 with the new lead; a resent ``Idempotency-Key`` with the same body answers 200
    with the lead it made (409 with another body); a duplicate email within the window
    answers 200 with ``duplicate: true``."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key.strip()) <= MAX_KEY:
        raise V1Error(422, "Invalid header 'Idempotency-Key'",
                      {"Idempotency-Key": f"must be 1 to {MAX_KEY} characters"})
    data = body(LeadIn)
    c = container()
    result = service.ingest(c.db, g.account_id, data.model_dump(mode="json"),
                            key=key.strip() if key else None, now=now(),
                            window=timedelta(seconds=c.config.v1_duplicate_window_seconds),
                            sync=c.owner_sync, crm=c.extras.get("lead_crm"))
    fresh = result.created and result.lead.duplicate_of is None
    return jsonify(render.lead(result)), 201 if fresh else 200


@bp.get("/leads")
@scoped("leads:read")
def list_leads():
    """Newest first. Filters: ``owner_id``, ``email``, ``rule_id``, ``created_from``,
    ``created_to``; ``cursor`` from the previous page's ``next_cursor``."""
    limit = limit_arg()
    email = request.args.get("email")
    results = service.list_leads(
        container().db, g.account_id, limit=limit, before=time_cursor(),
        owner_rep_id=internal("rep", request.args.get("owner_id")),
        email=email.strip().lower() if email else None, rule_id=request.args.get("rule_id"),
        created_from=datetime_arg("created_from"), created_to=datetime_arg("created_to"))
    cursor = None
    if len(results) == limit:
        last = results[-1].lead
        cursor = encode_cursor(last.created_at.isoformat(), last.id)
    return jsonify({"data": [render.lead(r) for r in results], "next_cursor": cursor})


@bp.get("/leads/<lead_id>")
@scoped("leads:read")
def get_lead(lead_id: str):
    return jsonify(render.lead(service.load(container().db, g.account_id,
                                            internal("lead", lead_id))))
