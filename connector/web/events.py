"""Inbox events over the API: list failed and dead ones, replay one or all.

Failed HubSpot write-backs are inbox events too (kind ``hubspot_owner_sync``), so the
same list and replay cover them. An account token sees the events of the CRM portals/orgs
connected to it (``account_sources``); an admin token sees every event, including those
of portals connected to no account (dead letters saying so).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from connector.jobs import inbox
from connector.store import sources_repo
from connector.store.models import InboxEventRow

from .auth import _claims, check_account, token_account_id
from .common import container, int_arg
from .errors import ApiError

bp = Blueprint("events", __name__)

STATUSES = ("pending", "processing", "done", "failed", "dead")


def _scope() -> str | None:
    """The account whose events this token may see; None for an admin (all)."""
    claims = _claims()
    if claims.get("admin") is True:
        return None
    account_id = token_account_id(claims)
    check_account(account_id)
    return account_id


def event_json(row: InboxEventRow) -> dict[str, Any]:
    return {"id": row.id, "source": row.source, "kind": row.kind, "status": row.status,
            "attempts": row.attempts, "error": row.last_error,
            "next_attempt_at": row.next_attempt_at.isoformat().replace("+00:00", "Z"),
            "created_at": row.created_at.isoformat().replace("+00:00", "Z"),
            "payload": row.payload}


def _visible(query, account_id: str | None):
    """Only the events of the account's portals/orgs (``sources_repo.event_scope``)."""
    return query if account_id is None else query.where(sources_repo.event_scope(account_id))


def _visible_event(session, event_id: str, account_id: str | None) -> InboxEventRow:
    """The event, if this token may see it; 404 otherwise (another account's too)."""
    row = session.scalars(_visible(select(InboxEventRow).where(
        InboxEventRow.id == event_id), account_id)).one_or_none()
    if row is None:
        raise ApiError(404, "Event not found")
    return row


@bp.get("/events")
def list_events():
    scope = _scope()
    status = request.args.get("status")
    limit = int_arg("limit", 100, high=1000)
    query = _visible(select(InboxEventRow), scope)
    if status == "failed":
        query = query.where(InboxEventRow.status.in_(("failed", "dead")))
    elif status:
        if status not in STATUSES:
            raise ApiError(400, f"Invalid query parameter 'status': use one of "
                                f"{', '.join(STATUSES)}")
        query = query.where(InboxEventRow.status == status)
    with container().db.read_session() as session:
        rows = session.scalars(query.order_by(InboxEventRow.created_at.desc()).limit(limit))
        return jsonify({"results": [event_json(r) for r in rows]})


@bp.get("/events/<event_id>")
def get_event(event_id: str):
    """One event; a queued dispatch (kind ``dispatch``) also shows the decision it made."""
    from connector.service.dispatch_async import KIND, dispatch_result

    scope = _scope()
    with container().db.read_session() as session:
        row = _visible_event(session, event_id, scope)
        body = event_json(row)
        if row.kind == KIND:
            body["decision"] = dispatch_result(session, row.id)
        return jsonify(body)


@bp.post("/events/<event_id>/replay")
def replay_event(event_id: str):
    scope = _scope()
    with container().db.read_session() as session:
        row = _visible_event(session, event_id, scope)
        if row.status not in ("failed", "dead"):
            raise ApiError(409, f"Event is {row.status}; only failed or dead events replay")
    count = inbox.replay(container().db, [event_id])
    _notify()
    return jsonify({"replayed": count})


@bp.post("/events/replay")
def replay_events():
    scope = _scope()
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "Invalid JSON body: expected an object")
    ids, all_failed = data.get("ids"), data.get("all_failed", False)
    if not isinstance(all_failed, bool):
        raise ApiError(400, "Invalid field 'all_failed': must be a boolean")
    if ids is not None and (not isinstance(ids, list) or
                            not all(isinstance(i, str) for i in ids)):
        raise ApiError(400, "Invalid field 'ids': must be a list of event ids")
    if not ids and not all_failed:
        raise ApiError(400, "Missing required field 'ids' (or set 'all_failed': true)")
    query = _visible(select(InboxEventRow.id).where(
        InboxEventRow.status.in_(("failed", "dead"))), scope)
    if ids:
        query = query.where(InboxEventRow.id.in_(ids))
    with container().db.read_session() as session:
        wanted = list(session.scalars(query))
    count = inbox.replay(container().db, wanted) if wanted else 0
    _notify()
    return jsonify({"replayed": count})


def _notify() -> None:
    executor = container().executor
    if executor is not None:
        executor.notify()
