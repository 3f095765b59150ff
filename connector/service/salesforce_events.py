"""Processing of stored Salesforce events (inbox kind ``salesforce``).

* ``ConversationStarted``: map, upsert the conversation, route it (``Initial``).
* ``RoutingRequested``: Salesforce asks for a transfer (or a conference);
  ``routingParameters.channelData`` is a JSON string (the routing context). Carried out
  with the event's ``routingType`` (``Transfer`` when it has none) and answered with
  ``POST v1/routingResult`` before the 60-second deadline counted from when the event
  reached us (see :func:`connector.service.byoc.transfer` for the calls each target
  makes); a type the route API does not take is a dead letter.
* ``Interaction`` with a ``RoutingWorkResult`` or ``RoutingResult`` entry: the
  conversation's state follows; Declined or Cancelled offers it to the next eligible rep.
* ``ConnectorRetry`` (stored by ``POST /conversations/{id}/retry``): a failed
  conversation routed again, or handed to a queue.
* ``OutboundMessage``: Salesforce records (Lead, Contact, Case), see
  :mod:`connector.service.salesforce_records`.

Events of one conversation run in the order they arrived; different conversations of a
claimed batch run side by side (``CONNECTOR_WORKER_THREADS``), so one slow Interaction
Service call does not hold up the rest.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from connector.core.errors import CrmError
from connector.jobs.inbox import Permanent
from connector.mapping import MappingError
from connector.store import salesforce as store
from connector.store.models import ConversationRow

from . import byoc, sla, sources
from .byoc import Choice, SalesforcePorts
from .salesforce_records import route_records

log = logging.getLogger(__name__)

WORK_STATES = {"Assigned": "assigned", "Accepted": "accepted", "Closed": "closed",
               "Transferred": "transferred", "Declined": "declined",
               "Cancelled": "cancelled", "TransferError": "failed"}
#: the ``routingType`` values ``POST v1/route`` accepts (the OpenAPI's RoutingType enum);
#: a RoutingRequested event is routed with the type Salesforce sent in it
ROUTE_ROUTING_TYPES = ("Initial", "Transfer", "Conference")
#: states before a rep holds the work: a route or an offer is open
_OPEN = ("new", "unconfirmed", "pending", "offered")
#: the states a work result may move a conversation from, so that results arriving out
#: of order never take it backwards (a late Assigned after Accepted, a Declined after
#: Closed): Assigned < Accepted < Closed, Declined/Cancelled only before the rep accepted,
#: Transferred once the rep holds it, and nothing after Closed.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "assigned": _OPEN,
    "accepted": (*_OPEN, "assigned"),
    "declined": (*_OPEN, "assigned"),
    "cancelled": (*_OPEN, "assigned"),
    "transferred": (*_OPEN, "assigned", "accepted"),
    "failed": (*_OPEN, "assigned", "accepted", "transferred"),
    "closed": (*_OPEN, "assigned", "accepted", "declined", "cancelled", "transferred",
               "failed", "expired"),
}
#: a work that ended this way is offered again (by us or by Omni-Channel) as a new work
_REOFFERED = ("declined", "cancelled")


def _same_work(a: str, b: str) -> bool:
    return a[:15] == b[:15]


def _applies(conv: ConversationRow, work_id: str, state: str) -> bool:
    """Whether a work result for ``work_id`` moving to ``state`` is news for ``conv``.

    The conversation follows one work (AgentWork) at a time: the one we offered to a rep
    we picked, or else the first one Salesforce reports after a route. A result for
    another work is for an earlier offer or routing, unless Omni-Channel is the one
    offering (queue, flow, channel) and the work we follow was declined or cancelled, or
    the conversation was routed again since: then it is the next work of the routing."""
    if state not in ALLOWED_FROM:
        return False
    current = conv.agent_work_id
    ours = (conv.destination or {}).get("kind") in ("rep", "user")
    if work_id and current:
        same = _same_work(work_id, current)
        if conv.state == "pending":  # routed again after ``current`` ended
            if same or ours:
                return False
        elif not same and (ours or conv.state not in _REOFFERED):
            return False
        if not same:
            conv.agent_work_id = work_id
            return True
    elif work_id:
        conv.agent_work_id = work_id
    return conv.state in ALLOWED_FROM[state]


def handle_events(container: Any, events: Sequence[Any]) -> dict[str, str | None]:
    """Inbox handler: ``{event id: error to retry, or None when done}``."""
    by_org: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        by_org[event.account_key].append(event)
    results: dict[str, str | None] = {}
    for org, group in by_org.items():
        account_id = sources.account_for(container.db, "salesforce", org)
        if account_id is None:  # run_batch sets these aside; an unlink may race it
            error = Permanent(sources.not_connected("salesforce", org))
            results.update({e.id: error for e in group})
        else:
            results.update(_handle_org(container, account_id, group))
    return results


def _handle_org(container: Any, account_id: str, events: Sequence[Any]
                ) -> dict[str, str | None]:
    """The events of one org, for the account that org belongs to."""
    ports: SalesforcePorts = container.extras.get("salesforce_ports") or SalesforcePorts()
    records = [e for e in events if e.payload.get("eventType") == "OutboundMessage"]
    results = route_records(container, ports, account_id, records) if records else {}
    lanes: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        if event.payload.get("eventType") != "OutboundMessage":
            lanes[_conversation_key(event.payload)].append(event)

    def run_lane(lane: list[Any]) -> None:
        for event in lane:
            results[event.id] = _process_one(container, ports, account_id, event)

    workers = min(len(lanes), max(1, int(getattr(container.config, "worker_threads", 1))))
    if workers <= 1:
        for lane in lanes.values():
            run_lane(lane)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="byoc") as pool:
            list(pool.map(run_lane, lanes.values()))
    return results


def _conversation_key(payload: dict[str, Any]) -> str:
    """Events of one conversation are processed in order, different ones side by side."""
    data = payload.get("data") or {}
    return str(data.get("conversationIdentifier")
               or (data.get("payload") or {}).get("conversationIdentifier") or "")


def _process_one(container: Any, ports: SalesforcePorts, account_id: str,
                 event: Any) -> str | None:
    try:
        return process(container, ports, account_id, event.payload, event_id=event.id)
    except MappingError as exc:
        return Permanent(f"mapping failed: {exc}")
    except CrmError as exc:  # one that waiting cannot fix is a dead letter at once
        return str(exc) if exc.retryable else Permanent(str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad event must not fail its batch
        log.exception("Salesforce event %s failed", event.id)
        return f"{type(exc).__name__}: {exc}"


def process(container: Any, ports: SalesforcePorts, account_id: str,
            payload: dict[str, Any], *, event_id: str | None = None) -> str | None:
    """``event_id`` (the inbox event's) is stored on the decisions the event makes, so
    that processing it again never routes the conversation a second time."""
    kind, data = payload.get("eventType"), payload.get("data") or {}
    received_at = float(payload.get("received_at") or time.time())
    if kind == "ConversationStarted":
        if not data.get("conversationIdentifier"):
            return Permanent("malformed stored event: data.conversationIdentifier is missing")
        return start(container, ports, account_id, data, event_id=event_id)
    if kind == "RoutingRequested":
        return transfer(container, ports, account_id, data, received_at, event_id=event_id)
    if kind == "ConnectorRetry":  # stored by POST /conversations/{id}/retry
        return byoc.retry_failed(container.db, ports, account_id,
                                 data.get("conversationIdentifier") or "",
                                 queue_id=data.get("queueId"))
    if kind == "Interaction":
        entry = data.get("payload") or {}
        identifier = data.get("conversationIdentifier")
        body = entry.get("entryPayload") or {}
        if entry.get("entryType") == "RoutingWorkResult":
            return work_result(container, ports, account_id, identifier, body,
                               event_id=event_id)
        if entry.get("entryType") == "RoutingResult":
            return routing_result(container, account_id, identifier, body)
        return None
    return Permanent(f"unknown Salesforce event type {kind!r}")


def _conversation(container: Any, account_id: str, data: dict[str, Any]
                  ) -> tuple[str, str, str | None]:
    """Upsert the routable object and the conversation row: (row id, state, decision)."""
    mapping = container.mappings.get("salesforce", "conversation", account_id)
    fields = mapping.apply(data)
    identifier = data["conversationIdentifier"]
    with container.db.session() as session:
        obj = store.upsert_object(session, account_id, mapping.object_type, identifier, fields)
        conv = store.conversation(session, account_id, identifier)
        if conv is None:
            conv = ConversationRow(account_id=account_id, conversation_identifier=identifier,
                                   channel_address=data.get("channelAddressIdentifier"),
                                   object_id=obj.id, destination={}, declined_rep_ids=[],
                                   state="new", route_calls=0)
            session.add(conv)
            session.flush()
        return conv.id, conv.state, conv.decision_id


def start(container: Any, ports: SalesforcePorts, account_id: str,
          data: dict[str, Any], *, event_id: str | None = None) -> str | None:
    conv_id, state, decision_id = _conversation(container, account_id, data)
    if state == "unconfirmed":  # the route's answer was lost: execute checks what
        # Salesforce reported since before it sends the route again
        return byoc.execute(container.db, ports, conv_id,
                            _previous_choice(container, conv_id), routing_type="Initial")
    if state != "new":  # routed already: only an unfinished offer is left to do
        return byoc.resume(container.db, ports, conv_id)
    if decision_id:  # an earlier attempt decided, the route call did not get through
        choice = _previous_choice(container, conv_id)
    else:
        choice = byoc.choose(container.db, account_id, conv_id, event_id=event_id)
    return byoc.execute(container.db, ports, conv_id, choice, routing_type="Initial")


def _previous_choice(container: Any, conv_id: str) -> Choice:
    with container.db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        router_id, decision_id = conv.router_id, conv.decision_id
        destination, rep_id = dict(conv.destination or {}), conv.rep_id
    return Choice(router_id, decision_id, byoc.rep_by_id(container.db, rep_id),
                  destination or {"kind": "channel"})


def channel_data(params: dict[str, Any]) -> dict[str, Any]:
    """``routingParameters.channelData`` is a JSON string; a dict is accepted as is."""
    raw = params.get("channelData")
    if raw in (None, ""):
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        raise CrmError("routingParameters.channelData is not valid JSON") from None
    return value if isinstance(value, dict) else {}


#: the key prefix of Salesforce User ids; a transfer target with another id is a contact
#: outside Salesforce ("Others")
USER_PREFIX = "005"


def transfer_target(params: dict[str, Any]) -> dict[str, Any] | None:
    """The destination a RoutingRequested names: a flow, a queue, a rep (a Salesforce
    User id), someone outside Salesforce (any other ``userId``, or an
    ``externalContactId``), or None when it names nothing (the routers choose)."""
    user_id = params.get("userId")
    external = params.get("externalContactId") or (
        user_id if user_id and not str(user_id).startswith(USER_PREFIX) else None)
    if external:
        return {"kind": "external", "contact_id": str(external)}
    if params.get("flowId"):
        return {"kind": "flow", "flow_id": params["flowId"],
                "fallback_queue_id": params.get("queueId")}
    if user_id:
        return {"kind": "user", "user_id": user_id}
    if params.get("queueId"):
        return {"kind": "queue", "queue_id": params["queueId"]}
    return None


def transfer(container: Any, ports: SalesforcePorts, account_id: str, data: dict[str, Any],
             received_at: float, *, event_id: str | None = None) -> str | None:
    event = data.get("payload") or {}
    params = event.get("routingParameters") or {}
    identifier = event.get("conversationIdentifier") or channel_data(params).get(
        "conversationIdentifier")
    if not identifier:
        return Permanent("malformed stored event: RoutingRequested names no "
                         "conversationIdentifier")
    routing_type = event.get("routingType") or "Transfer"
    if routing_type not in ROUTE_ROUTING_TYPES:
        return Permanent(f"RoutingRequested for {identifier} has routingType "
                         f"{routing_type!r}, which POST v1/route does not accept (one of "
                         f"{', '.join(ROUTE_ROUTING_TYPES)})")
    deadline_at = received_at + byoc.TRANSFER_DEADLINE_SECONDS
    conv_id, _state, _decision = _conversation(container, account_id, {
        "conversationIdentifier": identifier,
        "channelAddressIdentifier": data.get("channelAddressIdentifier")})
    with container.db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        previous_rep = conv.rep_id
        answered = event_id is not None and conv.transfer_event_id == event_id
    if answered:  # this event already got its routingResult
        return None
    if time.time() >= deadline_at:
        byoc.fail(container.db, conv_id, "transfer not carried out: Salesforce's 60-second "
                   "transfer deadline passed (Salesforce has marked it failed)", None)
        return None
    destination = transfer_target(params)
    if destination is not None:
        choice = Choice(None, None, None, destination)
    else:
        exclude = [previous_rep] if previous_rep else []
        choice = byoc.choose(container.db, account_id, conv_id, exclude=exclude, reroute=True,
                             event_id=event_id)
    byoc.transfer(container.db, ports, conv_id, choice, routing_type=routing_type,
                  work_item_id=event.get("workRecordId"), deadline_at=deadline_at,
                  event_id=event_id, routing_context=channel_data(params))
    return None


def work_result(container: Any, ports: SalesforcePorts, account_id: str,
                identifier: str | None, entry: dict[str, Any], *,
                event_id: str | None = None) -> str | None:
    work_type = entry.get("workType")
    db = container.db
    with db.session() as session:
        conv = store.conversation(session, account_id, identifier or "", lock=True)
        if conv is None:
            log.info("RoutingWorkResult for an unknown conversation %s", identifier)
            return None
        work_id = str(entry.get("workId") or "")
        state = WORK_STATES.get(work_type, conv.state)
        if not _applies(conv, work_id, state):
            log.info("%s for %s ignored: the conversation is %s (an earlier offer, or "
                     "a result that arrived late)", work_type, identifier, conv.state)
            return None
        conv.state = state
        if state == "accepted" and conv.object_id:  # the rep took the work: a first touch
            sla.record_touch(session, account_id, conv.object_id, "touch", datetime.now(UTC),
                             source="salesforce-byoc", detail={"work_id": work_id})
        if state != "assigned":  # the offer got its answer (Assigned still waits for one)
            conv.offer_open_at = None
            store.close_offers(session, conv.id, "answered", work_type)
        errors = [str(m) for m in entry.get("errorMessages") or []]
        if work_type == "TransferError":
            conv.error = "; ".join(errors) or "transfer failed"
            conv.error_code = "TransferError"
            store.mark_decision(session, conv.decision_id, ok=False,
                                error=f"TransferError: {conv.error}")
        if work_type not in ("Declined", "Cancelled"):
            return None
        declined = list(conv.declined_rep_ids or [])
        if conv.rep_id and conv.rep_id not in declined:
            declined.append(conv.rep_id)
        conv.declined_rep_ids = declined
        conv_id, destination = conv.id, dict(conv.destination or {})
        routing_type = conv.routing_type
        decision_id, work_item_id = conv.decision_id, conv.work_item_id
        if work_type == "Cancelled" or destination.get("kind") == "rep":
            store.mark_decision(session, decision_id, ok=False,
                                error=f"{work_type} ({'; '.join(errors) or 'no reason given'})")
    if work_type == "Declined" and destination.get("kind") != "rep":
        return None  # Omni-Channel offers queue and flow work to its next rep itself
    choice = byoc.choose(db, account_id, conv_id, exclude=declined, reroute=True,
                         event_id=event_id)
    if work_type == "Declined" and work_item_id:
        if choice.rep is None:
            byoc.fail(db, conv_id, f"no eligible rep left to offer the work to: "
                                    f"{choice.reason}", choice.decision_id)
            return None
        with db.session() as session:
            conv = session.get(ConversationRow, conv_id)
            conv.decision_id, conv.router_id = choice.decision_id, choice.router_id
            store.mark_decision(session, choice.decision_id, ok=True)
        return byoc.offer(db, ports, conv_id, choice.rep)
    return byoc.execute(db, ports, conv_id, choice, routing_type=routing_type)


def routing_result(container: Any, account_id: str, identifier: str | None,
                   entry: dict[str, Any]) -> str | None:
    failure = entry.get("failureType") or "None"
    with container.db.session() as session:
        conv = store.conversation(session, account_id, identifier or "", lock=True)
        if conv is None:
            return None
        if failure == "None":
            conv.psr_id = entry.get("pendingServiceRoutingId") or conv.psr_id
            if conv.state == "unconfirmed" and conv.psr_id:
                # the route whose answer was lost did open this routing
                conv.work_item_id = conv.work_item_id or entry.get("recordId")
                conv.state, conv.error, conv.error_code = "pending", None, None
            return None
        reason = entry.get("failureReason") or ""
        messages = "; ".join(str(m) for m in entry.get("errorMessages") or [])
        conv.state, conv.error_code, conv.offer_open_at = "failed", failure, None
        conv.error = f"{failure}: {'; '.join(p for p in (reason, messages) if p) or 'no reason'}"
        store.mark_decision(session, conv.decision_id, ok=False, error=conv.error)
    return None
