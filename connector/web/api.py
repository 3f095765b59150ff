"""The Routera-compatible API: ``POST /dispatch/router``, contacts and tickets."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from connector.service import dispatch_async, objects
from connector.service.dispatch import dispatch
from connector.store import repositories as repo

from .auth import require_account, require_account_claim
from .common import container, int_arg, json_body
from .errors import ApiError

bp = Blueprint("api", __name__)

DISPATCH_INVALID = "Invalid event: require router_id and object_id"


@bp.post("/dispatch/router")
@require_account_claim
def dispatch_router():
    data = json_body(DISPATCH_INVALID)
    if not isinstance(data, dict):
        raise ApiError(400, DISPATCH_INVALID)
    router_id, object_id = data.get("router_id"), data.get("object_id")
    if not isinstance(router_id, str) or not router_id or not isinstance(object_id, str) \
            or not object_id:
        raise ApiError(400, DISPATCH_INVALID)
    c = container()
    if _wants_async() and _account_active(c):
        return _queue(c, router_id, object_id)
    result = dispatch(c.db, g.account_id, router_id, object_id, sync=c.owner_sync,
                      lookup=c.extras.get("object_lookup"))
    return jsonify(result.as_response())


def _wants_async() -> bool:
    """``?async=true`` or ``Prefer: respond-async`` (RFC 7240)."""
    flag = request.args.get("async", "").lower()
    if flag not in ("", "true", "false", "1", "0"):
        raise ApiError(400, "Invalid query parameter 'async': use true or false")
    prefer = request.headers.get("Prefer", "").lower()
    return flag in ("true", "1") or "respond-async" in prefer


def _account_active(c) -> bool:
    """A missing or inactive account is answered at once, as the synchronous call does."""
    with c.db.read_session() as session:
        account = repo.get_account(session, g.account_id)
        return account is not None and account.active


def _queue(c, router_id: str, object_id: str):
    """Store the request in the inbox and answer 202; the executor runs it."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= dispatch_async.MAX_KEY_LENGTH:
        raise ApiError(400, "Invalid header 'Idempotency-Key': 1 to "
                            f"{dispatch_async.MAX_KEY_LENGTH} characters")
    try:
        event_id, new = dispatch_async.queue_dispatch(c.db, g.account_id, router_id,
                                                      object_id, key)
    except ValueError as exc:
        raise ApiError(409, str(exc)) from None
    if new and c.executor is not None:
        c.executor.notify()
    return jsonify({"message": "The dispatch was queued", "event_id": event_id,
                    "status_url": f"/events/{event_id}"}), 202


def _objects_blueprint(object_type: str, plural: str) -> None:
    def _load(session, object_id: str):
        row = repo.get_object(session, g.account_id, object_id, object_type)
        if row is None:
            raise ApiError(404, f"{object_type.capitalize()} not found")
        return row

    @require_account
    def create():
        data = json_body()
        with container().db.session() as session:
            try:
                row = objects.create(session, g.account_id, object_type, data)
            except objects.ObjectError as exc:
                raise ApiError(exc.status, exc.message) from None
            body = objects.to_response(session, row)
        return jsonify(body), 201

    @require_account
    def list_():
        limit = int_arg("limit", 50, high=200)
        include_archived = request.args.get("archived", "false").lower() == "true"
        with container().db.session() as session:
            try:
                rows, after = objects.page(session, g.account_id, object_type, limit=limit,
                                           after=request.args.get("after"),
                                           include_archived=include_archived)
            except objects.ObjectError as exc:
                raise ApiError(exc.status, exc.message) from None
            results = [objects.to_response(session, r) for r in rows]
        return jsonify({"results": results, "paging": {"next": {"after": after}}
                        if after else None})

    @require_account
    def get(object_id: str):
        with container().db.session() as session:
            return jsonify(objects.to_response(session, _load(session, object_id)))

    @require_account
    def patch(object_id: str):
        data = json_body()
        with container().db.session() as session:
            row = _load(session, object_id)
            try:
                objects.update(session, row, data)
            except objects.ObjectError as exc:
                raise ApiError(exc.status, exc.message) from None
            return jsonify(objects.to_response(session, row))

    @require_account
    def archive(object_id: str):
        with container().db.session() as session:
            row = objects.archive(session, _load(session, object_id), g.subject)
            return jsonify(objects.to_response(session, row))

    @require_account
    def restore(object_id: str):
        with container().db.session() as session:
            try:
                row = objects.restore(session, _load(session, object_id))
            except objects.ObjectError as exc:
                raise ApiError(exc.status, exc.message) from None
            return jsonify(objects.to_response(session, row))

    prefix = f"/{plural}"
    bp.add_url_rule(prefix, f"{plural}_create", create, methods=["POST"])
    bp.add_url_rule(prefix, f"{plural}_list", list_, methods=["GET"])
    bp.add_url_rule(f"{prefix}/<object_id>", f"{plural}_get", get, methods=["GET"])
    bp.add_url_rule(f"{prefix}/<object_id>", f"{plural}_patch", patch, methods=["PATCH"])
    bp.add_url_rule(f"{prefix}/<object_id>", f"{plural}_archive", archive, methods=["DELETE"])
    bp.add_url_rule(f"{prefix}/<object_id>/restore", f"{plural}_restore", restore,
                    methods=["POST"])


_objects_blueprint("contact", "contacts")
_objects_blueprint("ticket", "tickets")
