"""``/v1/reps``: the seed's list (a bare array) with optional paging, and CRUD."""

from __future__ import annotations

from flask import g, jsonify, request, url_for

from connector.service import reps as service

from ..common import container
from . import bp, render, scoped
from .common import body, cursor_arg, encode_cursor, internal, limit_arg
from .schemas import RepIn, RepPatch


@bp.get("/reps")
@scoped("reps:read")
def list_reps():
    """A JSON array of all reps, as the seed shows. With ``?limit=`` it is one page; when
    there is more, ``Link: <…>; rel="next"`` and ``X-Next-Cursor`` carry the cursor (pass
    it as ``?cursor=``)."""
    limit = limit_arg(100, 500) if "limit" in request.args else None
    after = cursor_arg(2)
    views = service.list_reps(container().db, g.account_id, limit=limit,
                              after=(after[0], after[1]) if after else None)
    response = jsonify([render.rep(v, full=False) for v in views])
    if limit is not None and len(views) == limit:
        cursor = encode_cursor(views[-1].rep.email, views[-1].rep.id)
        response.headers["X-Next-Cursor"] = cursor
        response.headers["Link"] = f'<{url_for("v1.list_reps", limit=limit, cursor=cursor)}>; ' \
                                   'rel="next"'
    return response


@bp.post("/reps")
@scoped("reps:write")
def create_rep():
    data = body(RepIn)
    view = service.create_rep(container().db, g.account_id, data.model_dump(mode="json"))
    return jsonify(render.rep(view)), 201


@bp.get("/reps/<rep_id>")
@scoped("reps:read")
def get_rep(rep_id: str):
    return jsonify(render.rep(service.get_rep(container().db, g.account_id,
                                              internal("rep", rep_id))))


@bp.patch("/reps/<rep_id>")
@scoped("reps:write")
def patch_rep(rep_id: str):
    data = body(RepPatch)
    view = service.update_rep(container().db, g.account_id, internal("rep", rep_id),
                              data.model_dump(mode="json", exclude_unset=True))
    return jsonify(render.rep(view))


@bp.delete("/reps/<rep_id>")
@scoped("reps:write")
def delete_rep(rep_id: str):
    service.delete_rep(container().db, g.account_id, internal("rep", rep_id))
    return "", 204
