"""``POST /dispatch/router`` run later: the request is stored in the inbox, acknowledged with
202, and the executor (threads or Celery workers) runs the router on it.

This is the self-hosted counterpart of invoking the dispatch from a queue with the same
``router_id`` and ``object_id``: the inbox row is the durable queue, so a request accepted
is never lost, and the decision is the same one the synchronous call makes. An
``Idempotency-Key`` makes a client's resend of one request a duplicate, not a second
dispatch. A re-processed event (a worker killed after the routing commit) finds the
decision it made (``decisions.inbox_event_id``) and only finishes its CRM write-back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from connector.jobs import inbox
from connector.store import repositories as repo
from connector.store.models import DecisionRow, InboxEventRow, ObjectRow, new_id

from .dispatch import _sync, dispatch

SOURCE = "api"
KIND = "dispatch"
MAX_KEY_LENGTH = 200


def queue_dispatch(db: Any, account_id: str, router_id: str, object_id: str,
                   idempotency_key: str | None = None) -> tuple[str, bool]:
    """Store the request; returns (inbox event id, whether it is new)."""
    key = f"dispatch:{idempotency_key}" if idempotency_key else f"dispatch:{new_id()}"
    inserted = inbox.store_events(db, [inbox.NewEvent(
        SOURCE, account_id, key, KIND, {"router_id": router_id, "object_id": object_id})])
    with db.read_session() as session:
        event = session.scalars(select(InboxEventRow).where(
            InboxEventRow.source == SOURCE, InboxEventRow.account_key == account_id,
            InboxEventRow.event_key == key)).one()
        if not inserted and event.payload != {"router_id": router_id, "object_id": object_id}:
            raise ValueError("Idempotency-Key was already used for another dispatch")
        return event.id, bool(inserted)


def handle_dispatches(container: Any, events: Sequence[inbox.InboxEvent]
                      ) -> dict[str, str | None]:
    """Run each stored request once; a request whose decision exists finishes its
    write-back only. Outcomes like "Trigger did not match" are decisions, not errors."""
    results: dict[str, str | None] = {}
    lookup = container.extras.get("object_lookup")
    for event in events:
        router_id = event.payload.get("router_id")
        object_id = event.payload.get("object_id")
        if not isinstance(router_id, str) or not isinstance(object_id, str):
            results[event.id] = inbox.Permanent("Invalid event: require router_id and "
                                                "object_id")
            continue
        with container.db.read_session() as session:
            earlier = session.scalars(select(DecisionRow).where(
                DecisionRow.inbox_event_id == event.id)).first()
            pending = None
            if earlier is not None and earlier.assigned and earlier.sync_status == "pending":
                obj = session.get(ObjectRow, earlier.object_id)
                rep = repo.reps_by_id(session, event.account_key, [earlier.rep_id]).get(
                    earlier.rep_id)
                if obj is not None and rep is not None:
                    session.expunge(obj)
                    pending = (obj, rep)
        if earlier is None:
            dispatch(container.db, event.account_key, router_id, object_id,
                     sync=container.owner_sync, lookup=lookup, inbox_event_id=event.id)
        elif pending is not None and container.owner_sync is not None:
            _sync(container.db, container.owner_sync, event.account_key, pending[0],
                  pending[1], earlier.id)
        results[event.id] = None
    return results


def dispatch_result(session: Any, event_id: str) -> dict[str, Any] | None:
    """The decision a queued dispatch made, shaped like the synchronous answer."""
    row = session.scalars(select(DecisionRow).where(
        DecisionRow.inbox_event_id == event_id)).first()
    if row is None:
        return None
    body = repo.decision_as_dict(row)
    if row.sync_status == "failed" or row.sync_status == "dead":
        body.update(hubspot_sync_failed=True, hubspot_error=row.sync_error)
    return body
