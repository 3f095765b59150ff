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
what the request is about, so a retried event sends the same RequestId again; Salesforce
treats it as a reference only, so what keeps a retry from routing twice is here: a
``POST v1/route`` whose answer was lost is not sent again until Salesforce's own events
show it did not open a routing (see :func:`execute`), and an agentWork that already
exists (15109) counts as made.

A transfer Salesforce asks for (``RoutingRequested``) is answered with ``POST
v1/routingResult`` within its 60 seconds, on success and on failure (:func:`transfer`).
Only the connector's own offers to reps it chose are ever deleted (:func:`sweep_stale`);
a conversation in a queue, a flow or the channel's routing is Salesforce's to hold.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.core.errors import CrmError, TransientCrmError
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
#: with less time than this left before the deadline, a transfer to a rep sends its
#: routingResult before its agentWork, as the guides say to when agentWork may be slow
RESULT_FIRST_SECONDS = 25.0
#: how many more reps a refused offer (15105, 15106, 15112) is tried with
MAX_NEXT_REPS = 5
#: destination kinds whose offer the connector made itself
OWN_OFFERS = ("rep",)


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
        conv.offer_open_at = None
        conv.error = message[:4000]
        conv.error_code = getattr(exc, "code", None) if isinstance(exc, CrmError) else None
        store.close_offers(session, conv_id, "refused", message[:4000])
        store.mark_decision(session, decision_id, ok=False, error=message)
    log.warning("BYOC conversation %s failed: %s", conv_id, message)


def _ambiguous(exc: CrmError) -> bool:
    from adapters.salesforce.errors import AmbiguousOutcome  # the adapter's own error

    return isinstance(exc, AmbiguousOutcome)


#: refusals of an offer about the work item or the set-up, not the rep: no other rep helps
_NOT_ABOUT_THE_REP = frozenset({"10012", "10089", "10100", "15107", "15108", "15110",
                                "15111", "25005", "25006", "25007"})


def _another_rep_may_help(exc: CrmError) -> bool:
    """A permanent refusal of an offer is tried with the next eligible rep, unless it is
    about our credentials or the work item itself."""
    from connector.core.errors import AuthenticationFailed

    return not isinstance(exc, AuthenticationFailed) and exc.code not in _NOT_ABOUT_THE_REP


def execute(db: Database, ports: SalesforcePorts, conv_id: str, choice: Choice, *,
            routing_type: str, deadline_at: float | None = None,
            user_id: str | None = None) -> str | None:
    """``POST v1/route`` for the choice (and ``v1/agentWork`` for a rep). Returns an error
    to retry later, or None when done (a refused request is recorded, not retried).

    A route whose answer was lost (:class:`AmbiguousOutcome`) leaves the conversation
    ``unconfirmed``: the retry first looks at what Salesforce reported since (a
    RoutingResult with the PSR, or a work result), and sends the route again only when
    nothing shows that the first one opened a routing."""
    if ports.conversations is None:
        raise CrmError("the Interaction Service is not configured (BYOC_SCRT_URL)")
    decided = choice.decision_id if choice.router_id else None  # a fallback decided nothing
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        if conv.state == "unconfirmed" and conv.psr_id:
            confirmed = True  # Salesforce reported the routing the lost answer opened
        else:
            confirmed = False
            obj = session.get(ObjectRow, conv.object_id) if conv.object_id else None
            fields = dict(obj.fields) if obj is not None else {}
            attempt = conv.route_calls
            conv.router_id, conv.decision_id = choice.router_id, choice.decision_id
            conv.destination, conv.routing_type = choice.destination, routing_type
            conv.rep_id = choice.rep.id if choice.rep else None
            conv.request_id = request_id_for(conv.conversation_identifier, routing_type,
                                             choice.decision_id or "none", str(attempt))
            identifier, request_id = conv.conversation_identifier, conv.request_id
    if not confirmed:
        try:
            request = build_request(ports, identifier, routing_type, request_id,
                                    choice.destination, fields, deadline_at)
            accepted = ports.conversations.route(request)
        except CrmError as exc:
            if _ambiguous(exc):
                with db.session() as session:
                    conv = session.get(ConversationRow, conv_id)
                    conv.state, conv.psr_id = "unconfirmed", None
                    conv.error, conv.error_code = str(exc)[:4000], exc.code
                return f"route outcome unknown, waiting for Salesforce to report it: {exc}"
            if exc.retryable and (deadline_at is None or time.time() < deadline_at):
                with db.session() as session:
                    conv = session.get(ConversationRow, conv_id)
                    conv.error, conv.error_code = str(exc)[:4000], exc.code
                return str(exc)
            fail(db, conv_id, exc, decided)
            return None
    own = choice.destination.get("kind") in OWN_OFFERS
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        if not confirmed:
            conv.psr_id, conv.work_item_id = accepted.psr_id, accepted.work_item_id
            conv.routing_correlation_id = accepted.routing_correlation_id
        conv.state, conv.routed_at = "pending", datetime.now(UTC)
        conv.offer_open_at = conv.routed_at if own else None
        conv.route_calls += 1
        conv.error = conv.error_code = None
        store.mark_decision(session, decided, ok=True)
    if user_id is not None or own:
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


def _user_for(ports: SalesforcePorts, rep: Rep | None) -> str:
    user_id = None
    if rep is not None:
        user_id = rep.crm_ids.get("salesforce")
        if not user_id and ports.directory is not None:
            user_id = ports.directory.owner_id_for_email(rep.email)
    if not user_id:
        who = rep.email if rep is not None else "the chosen rep"
        raise CrmError(f"no active Salesforce user with the email of {who}")
    return user_id


def offer(db: Database, ports: SalesforcePorts, conv_id: str, rep: Rep | None, *,
          user_id: str | None = None, deadline_at: float | None = None,
          routing_context: Mapping[str, Any] | None = None) -> str | None:
    """``POST v1/agentWork``: offer the conversation's work item to a rep. A rep the
    connector chose who cannot take it (15105, 15106, 15112, or no Salesforce user) is
    passed over for the next eligible rep, up to :data:`MAX_NEXT_REPS` of them."""
    for _ in range(MAX_NEXT_REPS + 1):
        outcome = _offer_once(db, ports, conv_id, rep, user_id=user_id,
                              deadline_at=deadline_at, routing_context=routing_context)
        if not isinstance(outcome, CrmError):
            return outcome
        if user_id is not None or not _another_rep_may_help(outcome):
            break  # Salesforce named the rep, or the refusal is not about the rep
        rep = _next_choice(db, conv_id, outcome)
        if rep is None:
            break
    with db.session() as session:
        decision_id = session.get(ConversationRow, conv_id).decision_id
    fail(db, conv_id, outcome, decision_id)
    return None


def _next_choice(db: Database, conv_id: str, refused: CrmError) -> Rep | None:
    """The next eligible rep after ``refused`` (the current rep is left out from now on)."""
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        declined = list(conv.declined_rep_ids or [])
        if conv.rep_id and conv.rep_id not in declined:
            declined.append(conv.rep_id)
        conv.declined_rep_ids = declined
        account_id = conv.account_id
        store.mark_decision(session, conv.decision_id, ok=False, error=str(refused))
    choice = choose(db, account_id, conv_id, exclude=declined, reroute=True)
    if choice.rep is None:
        return None
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        conv.decision_id, conv.router_id = choice.decision_id, choice.router_id
        conv.rep_id = choice.rep.id
        store.mark_decision(session, choice.decision_id, ok=True)
    return choice.rep


def _offer_once(db: Database, ports: SalesforcePorts, conv_id: str, rep: Rep | None, *,
                user_id: str | None, deadline_at: float | None,
                routing_context: Mapping[str, Any] | None = None) -> str | None | CrmError:
    """One offer: None when made, an error text to retry later, or the CrmError that
    refused this rep (the caller tries the next one). ``routing_context`` is a
    transfer's own (the RoutingRequested event's channelData); else the routing's."""
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        work_item_id = conv.work_item_id
        context = {"conversationIdentifier": conv.conversation_identifier,
                   "routingType": conv.routing_type,
                   "routingCorrelationId": conv.routing_correlation_id}
        keys = tuple(context)
        if routing_context and all(routing_context.get(k) for k in keys):
            context = {k: str(routing_context[k]) for k in keys}
    try:
        user_id = user_id or _user_for(ports, rep)
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
            return exc
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        conv.state, conv.salesforce_user_id = "offered", user_id
        conv.agent_work_id = agent_work_id or conv.agent_work_id
        conv.routed_at = datetime.now(UTC)
        own = (conv.destination or {}).get("kind") in OWN_OFFERS
        # the pending timeout runs from the latest offer, and only for the connector's own
        conv.offer_open_at = conv.routed_at if own else None
        conv.rep_id = rep.id if rep is not None else conv.rep_id
        conv.error = conv.error_code = None
        store.open_offer(session, conv, rep_id=conv.rep_id, user_id=user_id,
                         agent_work_id=conv.agent_work_id)
    return None


def rep_by_id(db: Database, rep_id: str | None) -> Rep | None:
    from connector.store.models import RepRow

    if not rep_id:
        return None
    with db.session() as session:
        row = session.get(RepRow, rep_id)
        return rep_to_domain(row) if row is not None else None


# transfers (RoutingRequested) ------------------------------------------------------------
def transfer(db: Database, ports: SalesforcePorts, conv_id: str, choice: Choice, *,
             routing_type: str, work_item_id: str | None, deadline_at: float,
             event_id: str | None, routing_context: Mapping[str, Any] | None = None) -> None:
    """Carry out a transfer Salesforce asked for and answer it with ``POST
    v1/routingResult``, success or failure, before ``deadline_at``:

    * a rep (named by Salesforce, or chosen by the connector's routers): ``agentWork``
      then ``routingResult`` ("Transfer Messaging Sessions to Reps"); with less than
      :data:`RESULT_FIRST_SECONDS` left, ``routingResult`` first. No ``v1/route``: it
      would also hand the conversation to the channel's own routing;
    * a queue or a flow: ``route`` (``Transfer``, the queue / the flow and its fallback
      queue) then ``routingResult`` ("Transfer Messaging Sessions to Omni-Channel Queues",
      "... with Omni-Channel Flows"); the channel's own routing likewise, without
      ``routingInfo``;
    * someone outside Salesforce: ``routingResult`` with ``externallyRouted`` only
      ("Transfer Messaging Sessions to External Contacts"); this connector routes inside
      Salesforce, so it reports the transfer failed, naming why, and the rep picks again.
    """
    if ports.conversations is None:
        raise CrmError("the Interaction Service is not configured (BYOC_SCRT_URL)")
    kind = choice.destination.get("kind", "channel")
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        identifier = conv.conversation_identifier
        work_item_id = (work_item_id or conv.work_item_id or "")[:15] or None
        if work_item_id:
            conv.work_item_id = conv.work_item_id or work_item_id
    answer = _Answer(db, ports, conv_id, identifier, work_item_id, routing_type,
                     deadline_at, event_id)
    if kind == "external":
        answer.send(False, externally=True,
                    error="this contact center routes only to reps, queues and flows in "
                          "Salesforce; transfers to external contacts are not supported")
        return
    if kind in ("rep", "user"):
        _transfer_to_rep(db, ports, conv_id, choice, answer, routing_context)
        return
    decided = choice.decision_id if choice.router_id else None
    try:
        with db.session() as session:
            conv = session.get(ConversationRow, conv_id)
            obj = session.get(ObjectRow, conv.object_id) if conv.object_id else None
            fields = dict(obj.fields) if obj is not None else {}
            request_id = request_id_for(identifier, routing_type, event_id or "transfer")
        accepted = ports.conversations.route(build_request(
            ports, identifier, routing_type, request_id, choice.destination, fields,
            deadline_at))
    except CrmError as exc:
        answer.send(False, error=f"{kind} transfer failed: {exc}")
        fail(db, conv_id, exc, decided)
        return
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        conv.router_id, conv.decision_id = choice.router_id, choice.decision_id
        conv.destination, conv.routing_type = choice.destination, routing_type
        conv.rep_id = choice.rep.id if choice.rep else None
        conv.psr_id, conv.routing_correlation_id = accepted.psr_id, \
            accepted.routing_correlation_id
        conv.work_item_id = accepted.work_item_id or conv.work_item_id
        conv.state, conv.routed_at = "pending", datetime.now(UTC)
        conv.offer_open_at, conv.route_calls = None, conv.route_calls + 1
        conv.error = conv.error_code = None
        store.mark_decision(session, decided, ok=True)
    answer.work_item_id = answer.work_item_id or (accepted.work_item_id or "")[:15] or None
    answer.send(True)


def _transfer_to_rep(db: Database, ports: SalesforcePorts, conv_id: str, choice: Choice,
                     answer: _Answer, routing_context: Mapping[str, Any] | None) -> None:
    user_id = choice.destination.get("user_id")
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        conv.router_id, conv.decision_id = choice.router_id, choice.decision_id
        conv.destination, conv.routing_type = choice.destination, answer.routing_type
        conv.rep_id = choice.rep.id if choice.rep else None
        conv.offer_open_at = None
        store.mark_decision(session, choice.decision_id if choice.router_id else None,
                            ok=True)
    if not answer.work_item_id:
        fail(db, conv_id, "RoutingRequested names no workRecordId and the conversation has "
                          "no work item to offer", choice.decision_id)
        return
    result_first = answer.deadline_at - time.time() < RESULT_FIRST_SECONDS
    if result_first:
        answer.send(True)
    error = offer(db, ports, conv_id, choice.rep, user_id=user_id,
                  deadline_at=answer.deadline_at, routing_context=routing_context)
    with db.session() as session:
        conv = session.get(ConversationRow, conv_id)
        state, message = conv.state, conv.error
    if error is not None or state != "offered":
        message = error or message or "the offer failed"
        if error is not None:  # out of retries before the deadline
            fail(db, conv_id, TransientCrmError(message), choice.decision_id)
        if not result_first:
            answer.send(False, error=f"offer to the rep failed: {message}")
        return
    if not result_first:
        answer.send(True)


class _Answer:
    """The one ``POST v1/routingResult`` a RoutingRequested event gets."""

    def __init__(self, db: Database, ports: SalesforcePorts, conv_id: str, identifier: str,
                 work_item_id: str | None, routing_type: str, deadline_at: float,
                 event_id: str | None) -> None:
        self.db, self.ports, self.conv_id = db, ports, conv_id
        self.identifier, self.work_item_id = identifier, work_item_id
        self.routing_type, self.deadline_at, self.event_id = routing_type, deadline_at, event_id

    def send(self, success: bool, *, externally: bool = False, error: str | None = None
             ) -> None:
        if not self.work_item_id:
            log.warning("no routingResult for %s: no work item id", self.identifier)
            return
        try:
            self.ports.conversations.send_routing_result(
                conversation_identifier=self.identifier, work_item_id=self.work_item_id,
                success=success, externally_routed=externally,
                routing_type=self.routing_type, error_message=None if success else error,
                request_id=request_id_for("routingResult", self.identifier,
                                          self.event_id or str(self.deadline_at)),
                deadline_at=self.deadline_at)
        except CrmError as exc:
            log.warning("routingResult for %s failed: %s", self.identifier, exc)
            with self.db.session() as session:
                conv = session.get(ConversationRow, self.conv_id)
                conv.error = f"routingResult not delivered: {exc}"[:4000]
                conv.error_code = exc.code
            return
        with self.db.session() as session:
            conv = session.get(ConversationRow, self.conv_id)
            conv.transfer_event_id = self.event_id
            if not success:
                conv.error = (error or "transfer failed")[:4000]


# an operator's retry ---------------------------------------------------------------------
_QUEUE_ID = re.compile(r"^00G[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?$")


class RetryRefused(Exception):
    """A retry that cannot be queued; ``status`` is the HTTP answer the API gives."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def request_retry(db: Database, account_id: str, identifier: str,
                  queue_id: str | None = None) -> None:
    """Queue a failed conversation's retry (or hand-over to ``queue_id``) as an inbox
    event of its org, so a worker carries it out like every other Salesforce call."""
    from connector.jobs.inbox import NewEvent, store_events
    from connector.store import sources_repo

    if queue_id is not None and (not isinstance(queue_id, str)
                                 or not _QUEUE_ID.match(queue_id)):
        raise RetryRefused(400, "queue_id must be a Salesforce queue id (15 or 18 "
                                "characters starting with 00G)")
    with db.read_session() as session:
        row = store.conversation(session, account_id, identifier)
        if row is None:
            raise RetryRefused(404, "Conversation not found")
        if row.state != "failed":
            raise RetryRefused(409, f"the conversation is {row.state}, not failed; only a "
                                    "failed conversation is retried")
        orgs = sources_repo.keys_for_account(session, account_id, store.SOURCE)
        attempt = row.route_calls
    if not orgs:
        raise RetryRefused(409, "no Salesforce org is connected to this account")
    payload = {"eventType": "ConnectorRetry", "received_at": time.time(),
               "data": {"conversationIdentifier": identifier, "queueId": queue_id}}
    store_events(db, [NewEvent(store.SOURCE, orgs[0][1],
                               f"retry:{identifier}:{attempt}:{queue_id or ''}",
                               store.SOURCE, payload)])


def retry_failed(db: Database, ports: SalesforcePorts, account_id: str, identifier: str, *,
                 queue_id: str | None = None) -> str | None:
    """Route a failed conversation again (the next eligible rep, or the router's own
    destination), or hand it to the queue ``queue_id``. A pending routing the connector
    still holds is deleted first, with its reason, when the work goes to a queue."""
    with db.session() as session:
        conv = store.conversation(session, account_id, identifier)
        if conv is None or conv.state != "failed":
            return None  # gone, or already moved on
        conv_id, psr, routing_type = conv.id, conv.psr_id, conv.routing_type or "Initial"
        declined = list(conv.declined_rep_ids or [])
        own_offer = (conv.destination or {}).get("kind") in OWN_OFFERS and bool(psr)
    if queue_id is None:
        choice = choose(db, account_id, conv_id, exclude=declined, reroute=True)
        if own_offer and choice.rep is not None:  # the routing is still open: offer again
            with db.session() as session:
                conv = session.get(ConversationRow, conv_id)
                conv.decision_id, conv.router_id = choice.decision_id, choice.router_id
                conv.state = "pending"
            return offer(db, ports, conv_id, choice.rep)
        return execute(db, ports, conv_id, choice, routing_type=routing_type)
    if psr:
        try:
            ports.conversations.cancel_route(conversation_identifier=identifier,
                                             cancel_reason="Cancel",
                                             request_id=request_id_for("delete", psr))
        except CrmError as exc:
            return str(exc) if exc.retryable else None
        with db.session() as session:
            conv = session.get(ConversationRow, conv_id)
            store.record_deletion(session, conv, f"handed to queue {queue_id} by an operator "
                                                 "after it failed; DELETE v1/route "
                                                 "(cancelReason Cancel)")
            conv.psr_id = None
    return execute(db, ports, conv_id, Choice(None, None, None,
                                              {"kind": "queue", "queue_id": queue_id}),
                   routing_type=routing_type)


# the stale-offer sweep -------------------------------------------------------------------
def sweep_stale(db: Database, ports: SalesforcePorts, *, now: datetime | None = None) -> int:
    """``DELETE v1/route`` for the connector's own offers (rep destination) nobody
    answered within ``pending_timeout_seconds``, each recorded with its reason, then the
    work goes to the next eligible rep, or to the router's fallback (its backup user, its
    queue, or the channel's own routing): never just dropped. A conversation routed to a
    queue, a flow or the channel's routing is never deleted, however long it waits:
    ``DELETE v1/route`` is for missed or abandoned work, and that customer is waiting."""
    if ports.conversations is None:
        return 0
    now = now or datetime.now(UTC)
    before = now - timedelta(seconds=ports.pending_timeout_seconds)
    with db.session() as session:
        stale = [(c.id, c.conversation_identifier, c.psr_id or c.id, c.offer_open_at)
                 for c in store.stale_offers(session, before)]
    cleared = 0
    for conv_id, identifier, psr, open_at in stale:
        claimed_at = now.replace(tzinfo=open_at.tzinfo)
        with db.session() as session:  # another sweeper, or an event, may have taken it
            if not store.claim_stale(session, conv_id, open_at, claimed_at):
                continue
        try:
            ports.conversations.cancel_route(conversation_identifier=identifier,
                                             cancel_reason="Unavailable",
                                             request_id=request_id_for("delete", psr))
        except CrmError as exc:
            log.warning("DELETE route for %s failed: %s", identifier, exc)
            with db.session() as session:
                store.release_claim(session, conv_id, claimed_at, open_at)
                conv = session.get(ConversationRow, conv_id)
                conv.error, conv.error_code = str(exc)[:4000], exc.code
            continue
        with db.session() as session:
            conv = session.get(ConversationRow, conv_id)
            if conv.offer_open_at != claimed_at:
                continue  # an event moved it on while the DELETE was under way
            rep = conv.rep_id
            reason = (f"no answer to the offer within {ports.pending_timeout_seconds} s; "
                      "DELETE v1/route (cancelReason Unavailable)")
            store.record_deletion(session, conv, reason)
            declined = list(conv.declined_rep_ids or [])
            if rep and rep not in declined:
                declined.append(rep)
            conv.declined_rep_ids = declined
            conv.state, conv.offer_open_at, conv.psr_id = "expired", None, None
            conv.error = reason
            account_id, routing_type = conv.account_id, conv.routing_type
            destination = dict(conv.destination or {})
        cleared += 1
        _after_deletion(db, ports, conv_id, account_id, routing_type, destination, declined)
    return cleared


def _after_deletion(db: Database, ports: SalesforcePorts, conv_id: str, account_id: str,
                    routing_type: str, destination: dict[str, Any],
                    declined: list[str]) -> None:
    """Route a swept conversation again: the next eligible rep (the router's backup user
    included), else the destination's queue, else the channel's own routing."""
    choice = choose(db, account_id, conv_id, exclude=declined, reroute=True)
    if choice.rep is None:
        queue = {k: destination[k] for k in ("queue_id", "queue") if destination.get(k)}
        fallback = {"kind": "queue", **queue} if queue else {"kind": "channel"}
        choice = Choice(choice.router_id, choice.decision_id, None, fallback, choice.reason)
    error = execute(db, ports, conv_id, choice, routing_type=routing_type)
    if error is not None:
        log.warning("re-routing swept conversation %s: %s", conv_id, error)
