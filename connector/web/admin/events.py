"""Inbox events: counts by status, failed and dead-letter events with their error, and
replay of one or all of them."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from connector.jobs import inbox
from connector.service.sources import SOURCES
from connector.store import admin_repo, sources_repo

from ..common import container
from . import bp
from .security import AdminError, login_required

STATUSES = ("pending", "processing", "done", "failed", "dead")


def _wake_executor() -> None:
    executor = container().executor
    if executor is not None and hasattr(executor, "notify"):
        executor.notify()


@bp.get("/events")
@login_required
def events_list():
    status = request.args.get("status", "")
    statuses = (status,) if status in STATUSES else admin_repo.FAILED_STATUSES
    with container().db.read_session() as session:
        counts = admin_repo.event_counts(session, g.account_id)
        rows = admin_repo.events(session, g.account_id, statuses=statuses)
        connected = [(SOURCES.get(source, source), key) for source, key in
                     sources_repo.keys_for_account(session, g.account_id)]
        journal = _journal_gaps(connected)
        return render_template("admin/events.html", counts=counts, rows=rows,
                               statuses=STATUSES, status=status, connected=connected,
                               journal_gaps=journal)


def _journal_gaps(connected: list[tuple[str, str]]) -> list[dict]:
    """The HubSpot webhooks journal's lost stretches (events older than its 3 days that
    were never read), shown to accounts with a HubSpot portal."""
    if not any(key for label, key in connected if label == SOURCES.get("hubspot")):
        return []
    from connector.service.hubspot_journal import gap_status

    return [s for s in gap_status(container().db) if s["gap_at"] is not None]


@bp.post("/events/<event_id>/replay")
@login_required
def event_replay(event_id: str):
    with container().db.read_session() as session:
        row = admin_repo.event(session, g.account_id, event_id)
        if row is None:
            raise AdminError(404, "Event not found in your account.")
    count = inbox.replay(container().db, [event_id])
    _wake_executor()
    flash(f"Event {event_id} queued again." if count else
          f"Event {event_id} was not failed or dead; nothing to replay.")
    return redirect(url_for("admin.events_list"))


@bp.post("/events/replay")
@login_required
def events_replay_all():
    with container().db.read_session() as session:
        ids = [r.id for r in admin_repo.events(session, g.account_id,
                                               statuses=admin_repo.FAILED_STATUSES,
                                               limit=10_000)]
    count = inbox.replay(container().db, ids) if ids else 0
    _wake_executor()
    flash(f"{count} failed or dead event(s) queued again.")
    return redirect(url_for("admin.events_list"))
