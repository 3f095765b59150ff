"""Organization Settings → API keys: create (the key is shown once, on the page that
answers the creation, never stored or shown again), list by prefix and last use, revoke.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from connector.service.api_keys import SCOPES, create_key, list_keys, revoke_key
from connector.service.v1_errors import V1Error

from ..common import container
from . import bp
from .security import AdminError, login_required


def _page(*, secret: str | None = None, errors=(), status: int = 200):
    rows = list_keys(container().db, g.account_id)
    return render_template("admin/keys.html", keys=rows, scopes=SCOPES, secret=secret,
                           errors=list(errors)), status


@bp.get("/settings/keys")
@login_required
def keys_list():
    return _page()


@bp.post("/settings/keys")
@login_required
def keys_create():
    scopes = request.form.getlist("scopes")
    try:
        _, secret = create_key(container().db, g.account_id, scopes,
                               request.form.get("name", "").strip())
    except V1Error as exc:
        return _page(errors=[f"{field}: {problem}" for field, problem in exc.fields.items()]
                     or [exc.message], status=400)
    response = _page(secret=secret)
    return response[0], 201, {"Cache-Control": "no-store"}


@bp.post("/settings/keys/<key_id>/revoke")
@login_required
def keys_revoke(key_id: str):
    try:
        row = revoke_key(container().db, g.account_id, key_id)
    except V1Error:
        raise AdminError(404, "API key not found in your account.") from None
    flash(f"Revoked the key {row.prefix}…; requests with it now get 401.")
    return redirect(url_for("admin.keys_list"))
