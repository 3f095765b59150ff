"""``/v1/sla-monitors``: SLA monitors of a router or a ruleset; and each record's SLA
clocks (``/v1/contacts/{id}/sla``): deadline, time left, state and what stopped it."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

from connector.service import activities
from connector.service import sla as service
from connector.service.objects import iso
from connector.service.v1_errors import V1Error
from connector.store.models import SlaMonitorRow

from ..common import container
from . import bp, now, scoped
from .common import INVALID, body, internal, public
from .schemas import SlaMonitorIn, SlaMonitorPatch


def monitor_json(row: SlaMonitorRow) -> dict[str, Any]:
    return {"id": public("sla_monitor", row.id), "name": row.name,
            "router_id": row.router_id, "ruleset_id": public("ruleset", row.ruleset_id),
            "condition": row.condition, "duration": row.duration, "clock": row.clock,
            "reminders": list(row.reminders), "stages": list(row.stages),
            "manager_emails": list(row.manager_emails), "active": row.active,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("ruleset_id"):
        values["ruleset_id"] = internal("ruleset", values["ruleset_id"])
    return values


@bp.post("/sla-monitors")
@scoped("sla:write")
def create_sla_monitor():
    values = _stored(body(SlaMonitorIn).model_dump(mode="json"))
    row = service.create_monitor(container().db, g.account_id, values)
    return jsonify(monitor_json(row)), 201


@bp.get("/sla-monitors")
@scoped("sla:read")
def list_sla_monitors():
    rows = service.list_monitors(container().db, g.account_id)
    return jsonify({"data": [monitor_json(r) for r in rows], "next_cursor": None})


@bp.get("/sla-monitors/<monitor_id>")
@scoped("sla:read")
def get_sla_monitor(monitor_id: str):
    return jsonify(monitor_json(service.get_monitor(container().db, g.account_id,
                                                    internal("sla_monitor", monitor_id))))


@bp.patch("/sla-monitors/<monitor_id>")
@scoped("sla:write")
def patch_sla_monitor(monitor_id: str):
    values = _stored(body(SlaMonitorPatch).model_dump(mode="json", exclude_unset=True))
    nulls = {k: "must not be null" for k, v in values.items()
             if v is None and k not in ("router_id", "ruleset_id")}
    if nulls:
        raise V1Error(422, INVALID, nulls)
    row = service.update_monitor(container().db, g.account_id,
                                 internal("sla_monitor", monitor_id), values)
    return jsonify(monitor_json(row))


@bp.delete("/sla-monitors/<monitor_id>")
@scoped("sla:write")
def delete_sla_monitor(monitor_id: str):
    service.delete_monitor(container().db, g.account_id, internal("sla_monitor", monitor_id))
    return "", 204


def clock_json(view: dict[str, Any]) -> dict[str, Any]:
    return {**view, "monitor_id": public("sla_monitor", view["monitor_id"]),
            "object_id": public("contact", view["object_id"]),
            "rep_id": public("rep", view["rep_id"]),
            "reps": [public("rep", r) for r in view["reps"]]}


@bp.get("/contacts/<contact_id>/sla")
@scoped("sla:read")
def contact_sla(contact_id: str):
    """The contact's SLA clocks, oldest first, each with what stopped it."""
    db = container().db
    contact = activities.get_contact(db, g.account_id, internal("contact", contact_id))
    views = service.clocks_for(db, g.account_id, contact.id, now())
    return jsonify({"data": [clock_json(v) for v in views], "next_cursor": None})
