"""``/v1/notification-channels`` and ``/v1/reps/<id>/notification-preferences``: where an
account's SLA notifications go, and what each rep wants. Secrets are write-only."""

from __future__ import annotations

from flask import g, jsonify, request

from connector.service import notifications as service

from ..common import container
from . import bp, scoped
from .common import internal, public


@bp.get("/notification-channels")
@scoped("notifications:read")
def list_notification_channels():
    return jsonify({"data": service.list_channels(container().db, g.account_id)})


@bp.post("/notification-channels")
@scoped("notifications:write")
def create_notification_channel():
    c = container()
    channel = service.create_channel(c.db, c.config.secret_key, g.account_id,
                                     request.get_json(force=True, silent=True))
    return jsonify(channel), 201


@bp.delete("/notification-channels/<channel_id>")
@scoped("notifications:write")
def delete_notification_channel(channel_id: str):
    service.delete_channel(container().db, g.account_id, channel_id)
    return "", 204


@bp.put("/reps/<rep_id>/notification-preferences")
@scoped("notifications:write")
def put_notification_preferences(rep_id: str):
    saved = service.set_preferences(container().db, g.account_id, internal("rep", rep_id),
                                    request.get_json(force=True, silent=True))
    return jsonify({**saved, "rep_id": public("rep", saved["rep_id"])})
