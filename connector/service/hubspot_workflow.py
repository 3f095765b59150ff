"""The "Route with connector" custom workflow action: HubSpot asks, per enrolled record,
which rep the router named in the input field ``router_id`` picks.

Every execution is first stored in the inbox (kind ``hubspot_workflow``, keyed by its
``callbackId``, so HubSpot's retries of one execution are one row): nothing HubSpot hands
us is lost, whatever happens next.

* **Synchronous** when the record is already mirrored here (it came by webhook or
  journal): the router decides at once and the answer carries the output fields
  ``owner_id``, ``owner_email``, ``outcome_message``. The owner write-back follows through
  the inbox row, in a batch with others, like any assignment.
* **Asynchronous** when the decision must wait for HubSpot (the record has to be read
  first, a rate-limited call): the answer is ``hs_execution_state: BLOCK`` and the inbox
  row reads the record, routes it, writes the owner and completes the execution through
  the callbacks API with the same output fields.

An execution processed again (a retry after a crash, HubSpot resending the request) finds
the decision its inbox row produced and does not route the record a second time.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from connector.core.errors import CrmError
from connector.jobs import inbox
from connector.mapping import MappingError
from connector.service.dispatch_many import dispatch_many
from connector.service.hubspot_owner_sync import (
    FailedSync,
    by_portal,
    hubspot_owner_id,
    schedule_retries,
    write_owners,
)
from connector.service.hubspot_processing import (
    OWNER_PROPERTY,
    _owner_reps,
    _owner_write,
    mirror_records,
)
from connector.store import hubspot_repository as hs_repo
from connector.store import sources_repo
from connector.store.models import DecisionRow, InboxEventRow

log = logging.getLogger(__name__)

KIND = "hubspot_workflow"
OUTPUT_FIELDS = ("owner_id", "owner_email", "outcome_message")
#: how long HubSpot keeps a blocked execution waiting for its callback (ISO 8601)
EXPIRATION = "P1D"
#: attempts a synchronously answered execution leaves to its request before routing here
SYNC_GRACE_ATTEMPTS = 2
_OBJECT_TYPES = {"CONTACT": "contact", "COMPANY": "company", "DEAL": "deal",
                 "TICKET": "ticket", "0-1": "contact", "0-2": "company", "0-3": "deal",
                 "0-5": "ticket"}


class InvalidAction(ValueError):
    """The request body is not a workflow action execution we can run (names the field)."""


@dataclass(frozen=True)
class _Decision:
    """What an execution needs of its decision, read while its session is open."""

    id: str
    account_id: str | None
    assigned: bool
    rep_id: str | None
    rep_email: str | None
    message: str
    sync_status: str


def _snap(row: DecisionRow | None) -> _Decision | None:
    return None if row is None else _Decision(row.id, row.account_id, bool(row.assigned),
                                              row.rep_id, row.rep_email, row.message,
                                              row.sync_status)


class PortalNotConnected(Exception):
    """The execution comes from a portal no account has connected."""


@dataclass(frozen=True)
class ActionRequest:
    callback_id: str
    portal_id: str
    object_type: str
    object_id: str
    router_id: str


def parse_action(body: bytes) -> ActionRequest:
    """Validate HubSpot's execution request: ``callbackId``, ``origin.portalId``,
    ``object.objectId``/``objectType`` and ``inputFields.router_id``."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidAction("the body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidAction("the body must be a JSON object")
    callback_id = data.get("callbackId")
    if not isinstance(callback_id, str) or not callback_id or len(callback_id) > 200:
        raise InvalidAction("'callbackId' must be a non-empty string")
    origin, obj, inputs = (data.get(k) if isinstance(data.get(k), dict) else {}
                           for k in ("origin", "object", "inputFields"))
    portal_id = origin.get("portalId")
    if isinstance(portal_id, bool) or not isinstance(portal_id, int | str) or \
            not str(portal_id).isdigit():
        raise InvalidAction("'origin.portalId' must be a HubSpot portal id")
    object_id = obj.get("objectId")
    if isinstance(object_id, bool) or not isinstance(object_id, int | str) or \
            not str(object_id).isdigit():
        raise InvalidAction("'object.objectId' must be a HubSpot record id")
    object_type = _OBJECT_TYPES.get(str(obj.get("objectType") or "").upper())
    if object_type is None:
        raise InvalidAction("'object.objectType' must be one of CONTACT, COMPANY, DEAL, "
                            "TICKET")
    router_id = inputs.get("router_id")
    if not isinstance(router_id, str) or not router_id.strip() or len(router_id) > 64:
        raise InvalidAction("input field 'router_id' is required (the id of a router)")
    return ActionRequest(callback_id, str(portal_id), object_type, str(object_id),
                         router_id.strip())


def _outputs(row: _Decision | None, owner_id: str | None) -> dict[str, str]:
    if row is None:
        return {"owner_id": "", "owner_email": "", "outcome_message": "Not routed"}
    return {"owner_id": owner_id or "", "owner_email": (row.rep_email or "") if row.assigned
            else "", "outcome_message": row.message}


def accept(container: Any, req: ActionRequest) -> dict[str, Any]:
    """Store the execution and answer it: outputs now, or ``BLOCK`` (see module doc).
    Raises :class:`PortalNotConnected` when no account has connected the portal."""
    db = container.db
    with db.read_session() as session:
        account_id = sources_repo.account_for(session, "hubspot", req.portal_id)
        row = None if account_id is None else hs_repo.objects_by_source_ids(
            session, account_id, req.object_type, [req.object_id]).get(req.object_id)
        mirrored = row.id if row is not None and row.archived_at is None else None
    if account_id is None:
        raise PortalNotConnected(f"HubSpot portal {req.portal_id} is not connected to an account")
    sync = mirrored is not None
    payload = {"portal_id": req.portal_id, "callback_id": req.callback_id,
               "object_type": req.object_type, "object_id": req.object_id,
               "router_id": req.router_id, "mode": "sync" if sync else "async"}
    key = f"workflow:{req.callback_id}"
    inbox.store_events(db, [inbox.NewEvent("hubspot", req.portal_id, key, KIND, payload)])
    with db.read_session() as session:
        event = session.scalars(select(InboxEventRow).where(
            InboxEventRow.source == "hubspot", InboxEventRow.account_key == req.portal_id,
            InboxEventRow.event_key == key)).one()
        event_id, mode = event.id, event.payload.get("mode")
        earlier = [_snap(d) for d in hs_repo.decisions_of_events(session, [event_id])]
    if mode != "sync":
        _notify(container)
        return {"outputFields": {"hs_execution_state": "BLOCK",
                                 "hs_expiration_duration": EXPIRATION}}
    if earlier:
        row = earlier[-1]
    else:
        result = dispatch_many(db, account_id, req.router_id, [mirrored],
                               inbox_event_ids=[event_id])[0]
        with db.read_session() as session:
            row = _snap(session.get(DecisionRow, result.decision_id))
    _notify(container)  # the owner write-back
    return {"outputFields": _outputs(row, _owner_id(container, req.portal_id, row))}


def _notify(container: Any) -> None:
    if container.executor is not None:
        container.executor.notify()


def _owner_id(container: Any, portal: str, row: _Decision | None) -> str | None:
    """The HubSpot owner id of the chosen rep (the client's cached owners directory)."""
    if row is None or not row.assigned or not row.rep_id:
        return None
    with container.db.read_session() as session:
        rep = next(((r.email, dict(r.crm_ids or {}))
                    for r in hs_repo.account_reps(session, row.account_id)
                    if r.id == row.rep_id), None)
    if rep is None:
        return None
    try:
        client = container.extras["hubspot"].portals.client_for(portal)
        return hubspot_owner_id(client, *rep)
    except CrmError as exc:
        log.warning("owner id of %s unknown for now: %s", rep[0], exc)
        return None


def handle_actions(container: Any, events: Sequence[inbox.InboxEvent]) -> dict[str, str | None]:
    """Inbox handler for kind ``hubspot_workflow``; {event id: error or None}."""
    results: dict[str, str | None] = {}
    for portal, group in by_portal(events).items():
        try:
            results.update(_run(container, portal, group))
        except (CrmError, MappingError) as exc:
            log.warning("HubSpot workflow actions of portal %s failed: %s", portal, exc)
            retry = isinstance(exc, CrmError) and exc.retryable
            error = str(exc) if retry else inbox.Permanent(str(exc))
            results.update({e.id: error for e in group})
    return results


def _run(container: Any, portal: str, events: Sequence[inbox.InboxEvent]
         ) -> dict[str, str | None]:
    db = container.db
    results: dict[str, str | None] = {e.id: None for e in events}
    with db.read_session() as session:
        account_id = sources_repo.account_for(session, "hubspot", portal)
        earlier = {d.inbox_event_id: _snap(d) for d in
                   hs_repo.decisions_of_events(session, [e.id for e in events])}
        reps = [] if account_id is None else [
            (r.id, r.email, dict(r.crm_ids or {}))
            for r in hs_repo.account_reps(session, account_id)]
    if account_id is None:
        error = inbox.Permanent(f"HubSpot portal {portal} is not connected to an account")
        return {e.id: error for e in events}
    client = container.extras["hubspot"].portals.client_for(portal)
    owner_reps, rep_data = _owner_reps(client, reps)
    decisions = dict(earlier)
    now = datetime.now(UTC)
    todo: dict[str, list[inbox.InboxEvent]] = defaultdict(list)
    for event in events:
        if event.id in decisions:
            continue
        if event.payload.get("mode") == "sync" and event.attempts < SYNC_GRACE_ATTEMPTS:
            # the request that stored it is routing it right now; if it never finished
            # (and HubSpot gave up resending), a later attempt routes it here
            results[event.id] = "waiting for the synchronous answer to route the record"
            continue
        todo[event.payload["object_type"]].append(event)
    for object_type, group in todo.items():
        mapping = container.mappings.get("hubspot", object_type)
        properties = list(dict.fromkeys([*mapping.properties, OWNER_PROPERTY]))
        found = client.read_records(object_type, [e.payload["object_id"] for e in group],
                                    properties)
        with db.session() as session:
            mirrored, _, refused = mirror_records(session, mapping, account_id, object_type,
                                                  portal, found, owner_reps, now)
        for event in group:
            record_id = event.payload["object_id"]
            if record_id not in mirrored:
                problem = refused.get(record_id, "the record does not exist in HubSpot")
                results[event.id] = inbox.Permanent(f"record {record_id}: {problem}")
                continue
            result = dispatch_many(db, account_id, event.payload["router_id"],
                                   [mirrored[record_id][0]], now=now,
                                   inbox_event_ids=[event.id])[0]
            with db.read_session() as session:
                decisions[event.id] = _snap(session.get(DecisionRow, result.decision_id))

    writes: list[tuple[str, Any]] = []
    failures: list[FailedSync] = []
    for event in events:
        row = decisions.get(event.id)
        if row is not None and row.assigned and row.sync_status == "pending" and row.rep_id:
            email, crm_ids = rep_data.get(row.rep_id, (row.rep_email, {}))
            _owner_write(client, event.payload["object_type"], event.payload["object_id"],
                         row.id, email, crm_ids, writes, failures)
    outcome = write_owners(db, client, portal, writes)
    by_decision = {d: w for d, w in writes}
    failures.extend(FailedSync(d, by_decision[d].object_type, by_decision[d].record_id, err)
                    for d, err in outcome.items() if err is not None)
    schedule_retries(db, portal, failures)

    owner_of = {d: w.owner_id for d, w in writes}
    callbacks = {}
    for event in events:
        if event.payload.get("mode") != "async":
            continue
        if isinstance(results[event.id], inbox.Permanent):  # unblock it with the reason
            callbacks[event.payload["callback_id"]] = {
                "owner_id": "", "owner_email": "",
                "outcome_message": str(results[event.id])[:200]}
            continue
        row = decisions.get(event.id)
        owner_id = owner_of.get(row.id) if row is not None else None
        if row is not None and owner_id is None:
            owner_id = _owner_id(container, portal, row)
        callbacks[event.payload["callback_id"]] = _outputs(row, owner_id)
    if callbacks:  # adapters.hubspot.callbacks.complete_callbacks, wired by bootstrap
        container.extras["hubspot_callbacks"](client, callbacks)
    return results
