"""BYOC conversations that need a hand: every failed one with its error and next action
(route it again, or hand it to a queue), and the offers and route deletions made for it."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from connector.service.byoc import RetryRefused, request_retry
from connector.store import salesforce as store

from ..common import container
from . import bp
from .events import _wake_executor
from .security import login_required


@bp.get("/conversations")
@login_required
def conversations_list():
    with container().db.read_session() as session:
        rows = [(store.conversation_as_dict(c),
                 [store.offer_as_dict(o) for o in store.offers(session, c.id)])
                for c in store.failed_conversations(session, g.account_id)]
    return render_template("admin/conversations.html", rows=rows)


@bp.post("/conversations/retry")
@login_required
def conversation_retry():
    identifier = request.form.get("conversation_identifier", "")
    queue_id = (request.form.get("queue_id") or "").strip() or None
    try:
        request_retry(container().db, g.account_id, identifier, queue_id)
    except RetryRefused as exc:
        flash(f"{identifier}: {exc}")
    else:
        _wake_executor()
        flash(f"{identifier}: handed to queue {queue_id}." if queue_id else
              f"{identifier}: queued to be routed again.")
    return redirect(url_for("admin.conversations_list"))
