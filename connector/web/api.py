"""The Routera-compatible API: ``POST /dispatch/router``, contacts and tickets."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from connector.service import objects
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
    result = dispatch(c.db, g.account_id, router_id, object_id, sync=c.owner_sync,
                      lookup=c.extras.get("object_lookup"))
    return jsonify(result.as_response())


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
