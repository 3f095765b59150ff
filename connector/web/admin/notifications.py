"""Organization Settings → Notifications: the account's channels (Slack incoming webhook
or bot, SMTP mail, signed webhook), added and removed as with
``/v1/notification-channels``. Secrets are typed once and never shown again."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from connector.service import notifications as service
from connector.service.v1_errors import V1Error

from ..common import container
from . import bp
from .security import AdminError, login_required


def _page(*, errors=(), status: int = 200):
    from connector.store import admin_repo
    from connector.store.reads import detached

    with detached(container().db) as session:
        reps = admin_repo.reps(session, g.account_id)
    return render_template("admin/notifications.html", reps=reps,
                           channels=service.list_channels(container().db, g.account_id),
                           types=service.TYPES, kinds=service.KINDS, fields=service.FIELDS,
                           errors=list(errors), form=request.form), status


@bp.get("/settings/notifications")
@login_required
def notifications_page():
    return _page()


def _body() -> dict:
    """The API's body from the form: only the fields of the chosen type, blanks left out."""
    kind = request.form.get("type", "")
    shown, hidden = service.FIELDS.get(kind, ({}, {}))
    settings, secrets = {}, {}
    for names, out in ((shown, settings), (hidden, secrets)):
        for name in names:
            value = request.form.get(f"{kind}.{name}", "").strip()
            if not value:
                continue
            if name == "smtp_port":
                out[name] = int(value) if value.isdigit() else value
            elif name == "to":
                out[name] = [v.strip() for v in value.split(",") if v.strip()]
            else:
                out[name] = value
    return {"name": request.form.get("name", ""), "type": kind, "settings": settings,
            "secrets": secrets, "kinds": request.form.getlist("kinds")}


@bp.post("/settings/notifications")
@login_required
def notifications_create():
    c = container()
    try:
        created = service.create_channel(c.db, c.config.secret_key, g.account_id, _body())
    except V1Error as exc:
        return _page(errors=[f"{field}: {problem}" for field, problem in exc.fields.items()]
                     or [exc.message], status=400)
    flash(f"Added the channel {created['name']}.")
    return redirect(url_for("admin.notifications_page"))


@bp.post("/settings/notifications/<channel_id>/delete")
@login_required
def notifications_delete(channel_id: str):
    try:
        service.delete_channel(container().db, g.account_id, channel_id)
    except V1Error:
        raise AdminError(404, "Channel not found in your account.") from None
    flash("Channel removed.")
    return redirect(url_for("admin.notifications_page"))


# -- a rep's preferences (as ``PUT /v1/reps/{id}/notification-preferences``) -------------

def _rep_page(rep, prefs: dict, *, errors=(), status: int = 200):
    return render_template("admin/notification_preferences.html", rep=rep, prefs=prefs,
                           channels=service.list_channels(container().db, g.account_id),
                           kinds=service.KINDS, errors=list(errors)), status


def _rep(rep_id: str):
    from connector.store import reps_repo
    from connector.store.reads import detached

    with detached(container().db) as session:
        rep = reps_repo.get(session, g.account_id, rep_id)
    prefs = service.preferences(container().db, g.account_id, rep_id) if rep else None
    if rep is None or prefs is None:
        raise AdminError(404, "Rep not found in your account.")
    return rep, prefs


@bp.get("/settings/notifications/reps/<rep_id>")
@login_required
def notification_preferences(rep_id: str):
    return _rep_page(*_rep(rep_id))


@bp.post("/settings/notifications/reps/<rep_id>")
@login_required
def notification_preferences_save(rep_id: str):
    rep, prefs = _rep(rep_id)
    body = {"channel_ids": None if request.form.get("all_channels")
            else request.form.getlist("channel_ids"),
            "muted_kinds": request.form.getlist("muted_kinds")}
    try:
        service.set_preferences(container().db, g.account_id, rep.id, body)
    except V1Error as exc:
        return _rep_page(rep, {**prefs, **body}, status=400, errors=[
            f"{field}: {problem}" for field, problem in exc.fields.items()] or [exc.message])
    flash(f"Saved the notification preferences of {rep.email}.")
    return redirect(url_for("admin.notification_preferences", rep_id=rep.id))
