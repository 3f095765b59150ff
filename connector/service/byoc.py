"""Partner-owned routing of BYOC conversations: we decide, Salesforce's Interaction
Service carries it out.

A router of object type ``conversation`` decides (trigger, reps, distribution, caps); its
``destination`` says how the decision reaches Salesforce: the channel's own routing (no
``routingInfo``), a flow (flow id + fallback queue, optional routing attributes from
mapped fields), a queue, or a rep (route, then ``v1/agentWork`` with the rep's Salesforce
user id). When no router assigns, the conversation still goes to the channel's own
routing, so nothing a customer started is dropped.

Every Salesforce call's outcome lands on the decision (``sync_status``/``sync_error``) and
on the conversation row (state, PSR, work item, error code). RequestIds are derived from
what the request is about, so a retried event sends the same RequestId again.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.core.errors import CrmError
from connector.core.model import Rep
from connector.core.ports import (
    ConversationRouter,
    OwnerDirectory,
    OwnerWriter,
    QueueDirectory,
    RouteRequest,
)
from connector.service.dispatch import dispatch
from connector.store import salesforce as store
from connector.store.db import Database
from connector.store.models import ConversationRow, ObjectRow
from connector.store.repositories import rep_to_domain

log = logging.getLogger(__name__)

TRANSFER_DEADLINE_SECONDS = 60.0


@dataclass
class SalesforcePorts:
    """What the Salesforce flows need from the adapters (wired by bootstrap)."""

    conversations: ConversationRouter | None = None
    directory: OwnerDirectory | None = None
    queues: QueueDirectory | None = None
    writer: OwnerWriter | None = None
    account_id: str | None = None
    pending_timeout_seconds: int = 300


@dataclass
class Choice:
    router_id: str | None
    decision_id: str | None
    rep: Rep | None
    destination: dict[str, Any]
    reason: str | None = None


def request_id_for(*parts: str) -> str:
    """A RequestId that is the same every time the same logical request is made."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "byoc:" + ":".join(parts)))


def choose(db: Database, account_id: str, conv_id: str, *, exclude: list[str] | None = None,
           reroute: bool = False, event_id: str | None = None) -> Choice:
    """Run the conversation routers in order; the first that assigns decides.

    With ``event_id`` (the inbox event asking), a choice that event already made before
    a crash or a retry is returned again instead of routing (and counting) twice; its
    RequestId is then the same too."""
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        object_id = conv.object_id
        routers = [(r.id, (r.settings or {}).get("destination"))
                   for r in store.routers_for(session, account_id, "conversation")]
        earlier = store.event_decisions(session, event_id, object_id)
        ran = {d.router_id for d in earlier}
        made = [(d.router_id, d.id, d.rep_id) for d in earlier if d.assigned]
        if reroute and object_id and not made:
            obj = session.get(ObjectRow, object_id)
            obj.owner_rep_id = None
    if made:
        router_id, decision_id, rep_id = made[-1]
        destination = dict(routers).get(router_id)
        return Choice(router_id, decision_id, rep_by_id(db, rep_id),
                      dict(destination or {"kind": "channel"}))
    last = None
    for router_id, destination in routers:
        if router_id in ran:
            continue  # this event ran it before and it did not assign
        result = dispatch(db, account_id, router_id, object_id, exclude_rep_ids=exclude or (),
                          inbox_event_id=event_id)
        if result.decision.assigned:
            return Choice(router_id, result.decision_id, result.decision.rep,
                          dict(destination or {"kind": "channel"}))
        last = result
    reason = last.decision.outcome.message if last else "no published conversation router"
    return Choice(None, last.decision_id if last else None, None, {"kind": "channel"}, reason)


def _resolve_queue(ports: SalesforcePorts, destination: Mapping[str, Any], id_key: str,
                   name_key: str) -> str | None:
    if destination.get(id_key):
        return destination[id_key]
    name = destination.get(name_key)
    if name and ports.queues is not None:
        found = ports.queues.queue_id(name)
        if found is None:
            raise CrmError(f"no Salesforce queue with developer name {name!r}")
        return found
    return None


def build_request(ports: SalesforcePorts, identifier: str, routing_type: str, request_id: str,
                  destination: Mapping[str, Any], fields: Mapping[str, Any],
                  deadline_at: float | None) -> RouteRequest:
    kind = destination.get("kind", "channel")
    flow_id = queue_id = fallback = None
    attributes: dict[str, Any] = {}
    if kind == "flow":
        flow_id = destination.get("flow_id")
        fallback = _resolve_queue(ports, destination, "fallback_queue_id", "fallback_queue")
        attributes = {var: fields.get(name)
                      for var, name in (destination.get("routing_attributes") or {}).items()
                      if fields.get(name) is not None}
    elif kind in ("queue", "rep"):
        queue_id = _resolve_queue(ports, destination, "queue_id", "queue")
    return RouteRequest(identifier, routing_type, request_id, flow_id=flow_id,
                        fallback_queue_id=fallback, queue_id=queue_id,
                        routing_attributes=attributes, deadline_at=deadline_at)


def fail(db: Database, conv_id: str, exc: CrmError | str, decision_id: str | None) -> None:
    message = str(exc)
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        conv.state = "failed"
        conv.error = message[:4000]
        conv.error_code = getattr(exc, "code", None) if isinstance(exc, CrmError) else None
        store.mark_decision(session, decision_id, ok=False, error=message)
    log.warning("BYOC conversation %s failed: %s", conv_id, message)


def execute(db: Database, ports: SalesforcePorts, conv_id: str, choice: Choice, *,
            routing_type: str, deadline_at: float | None = None,
            user_id: str | None = None) -> str | None:
    """``POST v1/route`` for the choice (and ``v1/agentWork`` for a rep). Returns an error
    to retry later, or None when done (a refused request is recorded, not retried)."""
    if ports.conversations is None:
        raise CrmError("the Interaction Service is not configured (BYOC_SCRT_URL)")
    decided = choice.decision_id if choice.router_id else None  # a fallback decided nothing
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        obj = session.get(ObjectRow, conv.object_id) if conv.object_id else None
        fields = dict(obj.fields) if obj is not None else {}
        attempt = conv.route_calls
        conv.router_id, conv.decision_id = choice.router_id, choice.decision_id
        conv.destination, conv.routing_type = choice.destination, routing_type
        conv.rep_id = choice.rep.id if choice.rep else None
        conv.request_id = request_id_for(conv.conversation_identifier, routing_type,
                                         choice.decision_id or "none", str(attempt))
        identifier, request_id = conv.conversation_identifier, conv.request_id
    try:
        request = build_request(ports, identifier, routing_type, request_id,
                                choice.destination, fields, deadline_at)
        accepted = ports.conversations.route(request)
    except CrmError as exc:
        if exc.retryable and (deadline_at is None or time.time() < deadline_at):
            with db.session() as session:
                conv = session.get(ConversationRow, conv_id)
                conv.error, conv.error_code = str(exc)[:4000], exc.code
            return str(exc)
        fail(db, conv_id, exc, decided)
        return None
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        conv.psr_id, conv.work_item_id = accepted.psr_id, accepted.work_item_id
        conv.routing_correlation_id = accepted.routing_correlation_id
        conv.state, conv.routed_at = "pending", datetime.now(UTC)
        conv.route_calls += 1
        conv.error = conv.error_code = None
        store.mark_decision(session, decided, ok=True)
    if user_id is not None or choice.destination.get("kind") == "rep":
        return offer(db, ports, conv_id, choice.rep, user_id=user_id, deadline_at=deadline_at)
    return None


def resume(db: Database, ports: SalesforcePorts, conv_id: str,
           deadline_at: float | None = None) -> str | None:
    """Finish a routing whose ``v1/route`` went through but whose ``v1/agentWork`` did not
    (the event is being retried); anything else is already done."""
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        destination = dict(conv.destination or {})
        waiting = conv.state == "pending" and destination.get("kind") in ("rep", "user")
        rep_id = conv.rep_id
    if not waiting:
        return None
    return offer(db, ports, conv_id, rep_by_id(db, rep_id),
                 user_id=destination.get("user_id"), deadline_at=deadline_at)


def offer(db: Database, ports: SalesforcePorts, conv_id: str, rep: Rep | None, *,
          user_id: str | None = None, deadline_at: float | None = None) -> str | None:
    """``POST v1/agentWork``: offer the conversation's work item to a rep."""
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        work_item_id, decision_id = conv.work_item_id, conv.decision_id
        context = {"conversationIdentifier": conv.conversation_identifier,
                   "routingType": conv.routing_type,
                   "routingCorrelationId": conv.routing_correlation_id}
    try:
        if user_id is None and rep is not None:
            user_id = rep.crm_ids.get("salesforce")
            if not user_id and ports.directory is not None:
                user_id = ports.directory.owner_id_for_email(rep.email)
        if not user_id:
            who = rep.email if rep is not None else "the chosen rep"
            raise CrmError(f"no active Salesforce user with the email of {who}")
        if not work_item_id:
            raise CrmError("Salesforce returned no workItemId to offer")
        agent_work_id = ports.conversations.assign_agent_work(
            user_id=user_id, work_item_id=work_item_id, routing_context=context,
            request_id=request_id_for("agentWork", work_item_id, user_id),
            deadline_at=deadline_at)
    except CrmError as exc:
        if exc.code == "15109":  # this offer already exists: a retry of ours
            agent_work_id = None
        elif exc.retryable:
            return str(exc)
        else:
            fail(db, conv_id, exc, decision_id)
            return None
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        conv.state, conv.salesforce_user_id = "offered", user_id
        conv.agent_work_id = agent_work_id or conv.agent_work_id
        conv.routed_at = datetime.now(UTC)  # the pending timeout runs from the latest offer
        conv.rep_id = rep.id if rep is not None else conv.rep_id
    return None


def rep_by_id(db: Database, rep_id: str | None) -> Rep | None:
    from connector.store.models import RepRow

    if not rep_id:
        return None
    with db.session() as session:
        row = session.get(RepRow, rep_id)
        return rep_to_domain(row) if row is not None else None


def sweep_stale(db: Database, ports: SalesforcePorts, *, now: datetime | None = None) -> int:
    """``DELETE v1/route`` for conversations whose PSR stayed pending too long."""
    if ports.conversations is None:
        return 0
    now = now or datetime.now(UTC)
    before = now - timedelta(seconds=ports.pending_timeout_seconds)
    with db.session() as session:
        stale = [(c.id, c.conversation_identifier, c.psr_id or c.id, c.state, c.routed_at)
                 for c in store.stale_conversations(session, before)]
    cleared = 0
    for conv_id, identifier, psr, state, routed_at in stale:
        claimed_at = now.replace(tzinfo=routed_at.tzinfo)
        with db.session() as session:  # another sweeper, or an event, may have taken it
            if not store.claim_stale(session, conv_id, state, routed_at, claimed_at):
                continue
        try:
            ports.conversations.cancel_route(conversation_identifier=identifier,
                                             cancel_reason="Unavailable",
                                             request_id=request_id_for("delete", psr))
        except CrmError as exc:
            log.warning("DELETE route for %s failed: %s", identifier, exc)
            with db.session() as session:
                store.release_claim(session, conv_id, claimed_at, routed_at)
                conv = session.get(ConversationRow, conv_id)
                conv.error, conv.error_code = str(exc)[:4000], exc.code
            continue
        with db.session() as session:
            conv = session.get(ConversationRow, conv_id)
            if conv.state != state or conv.routed_at != claimed_at:
                continue  # an event moved it on while the DELETE was under way
            conv.state = "expired"
            conv.error = (f"pending service routing still open after "
                          f"{ports.pending_timeout_seconds} s; deleted (cancelReason "
                          "Unavailable)")
        cleared += 1
    return cleared
