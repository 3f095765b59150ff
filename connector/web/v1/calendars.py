"""``/v1/reps/{rep_id}/calendar``: a rep's ICS feed (the address goes in, never out) and
its refresh status."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from pydantic import Field

from connector.service import calendars as service
from connector.service.objects import iso

from ..common import container
from ..schemas import Strict
from . import bp, scoped
from .common import body, internal, public


class CalendarFeedIn(Strict):
    url: str = Field(min_length=1, max_length=2048)


def status_json(status: service.FeedStatus) -> dict[str, Any]:
    return {"rep_id": public("rep", status.rep_id), "status": status.state,
            "fetched_at": iso(status.fetched_at) if status.fetched_at else None,
            "failed_at": iso(status.failed_at) if status.failed_at else None,
            "last_error": status.last_error, "has_copy": status.has_copy}


@bp.put("/reps/<rep_id>/calendar")
@scoped("reps:write")
def set_calendar(rep_id: str):
    """Give the rep an ICS feed address (Google's or Outlook's secret address). Stored
    encrypted; refused on private or loopback networks unless the instance allows it."""
    data = body(CalendarFeedIn)
    config = container().config
    status = service.set_feed(container().db, service.cipher(config.secret_key),
                              g.account_id, internal("rep", rep_id), data.url,
                              allow_private=config.calendar_allow_private_feeds)
    return jsonify(status_json(status))


@bp.get("/reps/<rep_id>/calendar")
@scoped("reps:read")
def get_calendar(rep_id: str):
    return jsonify(status_json(service.get_status(container().db, g.account_id,
                                                  internal("rep", rep_id))))


@bp.delete("/reps/<rep_id>/calendar")
@scoped("reps:write")
def delete_calendar(rep_id: str):
    service.delete_feed(container().db, g.account_id, internal("rep", rep_id))
    return "", 204
