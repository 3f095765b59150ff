"""The Interaction Service part of the fake Salesforce: ``v1/route``, ``v1/agentWork`` and
``v1/routingResult``.

Checks follow ``inbound-interaction-api.yaml`` and ``ERRORCODES.md``: every required
header (Authorization, OrgId, AuthorizationContext, RequestId), the body in either
encoding, flow/queue rules (10024, 10030, 10032), routing attribute length (10096),
cancelReason support (10076), the routing result's error message rules (10033, 10034)
and work item (10012); answers are ``PostRouteResponse``, ``AgentWorkResponse``,
``RoutingResultResponse``, ``DeleteRouteResponse`` (202) or ``Error`` (``{"code",
"message"}``). The RequestId is checked as a GUID and counted, never used to repeat an
earlier answer: Salesforce documents it as a reference, not an idempotency key.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fake_server import FakeSalesforce, Reply

MESSAGES: dict[int, str] = {
    10001: "The AuthorizationContext in the request isn't valid for the provided value in "
           "the \"to\"/\"channelAddressIdentifier\" field.",
    10003: "The supplied Authorization access token is missing the required Connected App "
           "scope. Required value: interaction_api.",
    10004: "The supplied Authorization access token is not valid.",
    10005: "The AuthorizationContext for the request isn't valid based on the supplied "
           "Authorization access token.",
    10016: "Enter a valid header.",
    10018: "The conversation identifier is not valid.",
    10019: "The service is in read-only mode because an org migration is in progress. Try "
           "again later.",
    10024: "For Flow based Routing, flow ID and Fallback Queue ID are required fields.",
    10030: "Specify either a flow or a queue to Route API.",
    10032: "Specified Queue ID is invalid.",
    10055: "Conversation precondition failed. Please retry.",
    10056: "Conversation processing aborted. Please retry.",
    10070: "Provide a channel address identifier that's configured with the specified "
           "authorization context.",
    10076: "Your Salesforce org isn't ready to use the Delete Route API with cancel reason. "
           "Upgrade to the latest version or remove cancelReason from the payload.",
    10012: "Enter a valid workItemId for the MessagingSession ID.",
    10033: "Should not pass in error message when routing result success.",
    10034: "Error message missing when routing result false.",
    10089: "Invalid parameters passed to API.",
    10094: "The request failed due to a timeout from a downstream service. Please try again "
           "later.",
    10096: "The channel variable value length in routing attribute payload is larger than "
           "the maximum length configured in Messaging Channel setup page.",
    10100: "A request body is required and can't be empty. Provide a valid payload and "
           "ensure data is included and correctly formatted.",
    15106: "Invalid User Id parameter",
    15109: "An active AgentWork record already exists with the same UserId and WorkItemId.",
    15111: "WorkItemId for the MessagingSession ID not found.",
    500: "An internal server error occurred. Please contact Salesforce Support.",
}
STATUS: dict[int, int] = {10004: 401, 10001: 403, 10003: 403, 10005: 403, 10070: 403,
                          10055: 409, 10056: 409, 10019: 503, 10094: 504, 500: 500}
ROUTING_TYPES = ("Initial", "Transfer", "Conference")
CANCEL_REASONS = ("Unknown", "Unavailable", "Decline", "Cancel")
OPERATIONS = {("POST", "/api/v1/route"): "route", ("DELETE", "/api/v1/route"): "delete-route",
              ("POST", "/api/v1/agentWork"): "agentWork",
              ("POST", "/api/v1/routingResult"): "routingResult"}


def error(code: int, status: int | None = None, message: str | None = None) -> Reply:
    return (status or STATUS.get(code, 400), {},
            {"code": code, "message": message or MESSAGES.get(code, "Error")})


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def parse_body(headers: Mapping[str, str], body: bytes) -> tuple[str, Any]:
    """(encoding, decoded JSON) for application/json or multipart with a ``json`` part."""
    content_type = headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "json":
                return "multipart", json.loads(part.get_payload(decode=True) or b"null")
        raise ValueError("no part named 'json'")
    if content_type.startswith("application/json"):
        return "json", json.loads(body or b"null")
    raise ValueError(f"unsupported Content-Type {content_type!r}")


def handle(fake: FakeSalesforce, method: str, path: str, headers: Mapping[str, str],
           body: bytes) -> Reply:
    from .fake_server import RecordedRequest

    operation = OPERATIONS.get((method, path))
    if operation is None:
        return 404, {}, {"code": 10089, "message": f"No such resource {method} {path}"}
    try:
        encoding, data = parse_body(headers, body)
    except (ValueError, UnicodeDecodeError):
        fake.record(RecordedRequest(method, path, dict(headers), "invalid", None))
        return error(10100)
    fake.record(RecordedRequest(method, path, dict(headers), encoding, data))
    if encoding != "json" and operation != "route":
        return error(10089, message="Only POST route accepts multipart/form-data")
    problem = _check_headers(fake, headers)
    if problem is not None:
        return problem
    request_id = headers["requestid"]
    with fake._lock:
        fake.request_ids[request_id] += 1
    injected = fake.take_injection(operation)
    if injected is not None:
        code = int(injected.code)
        return error(code, injected.status)
    if not isinstance(data, dict):
        return error(10100)
    if fake.request_validator is not None:
        problem_text = fake.request_validator(operation, headers, data)
        if problem_text:
            return error(10089, message=f"Invalid parameters passed to API: {problem_text}")
    handler = {"route": _route, "delete-route": _delete_route, "agentWork": _agent_work,
               "routingResult": _routing_result}
    return handler[operation](fake, data)


def _check_headers(fake: FakeSalesforce, headers: Mapping[str, str]) -> Reply | None:
    if not fake.token_valid(headers):
        return error(10004)
    if headers.get("orgid") != fake.org_id:
        return error(10016, message="Enter a valid header. OrgId must be the org's "
                                    "15-character id.")
    if headers.get("authorizationcontext") != fake.authorization_context:
        return error(10005)
    if not _is_uuid(headers.get("requestid", "")):
        return error(10016, message="Enter a valid header. RequestId must be a GUID.")
    return None


def _route(fake: FakeSalesforce, data: dict[str, Any]) -> Reply:
    from .fake_server import Psr

    conversation = data.get("conversationIdentifier")
    if not isinstance(conversation, str) or not conversation:
        return error(10018)
    if data.get("routingType") not in ROUTING_TYPES:
        return error(10089, message="routingType must be Initial, Transfer or Conference")
    info = data.get("routingInfo")
    context: dict[str, str] = {}
    if info is not None:
        if not isinstance(info, dict):
            return error(10089)
        flow, queue_id = info.get("flow"), info.get("queueId")
        if flow is not None and queue_id is not None:
            return error(10030)
        if flow is not None:
            if not isinstance(flow, dict) or not flow.get("flowId") or not flow.get("queueId"):
                return error(10024)
            queue_id = flow["queueId"]
        if queue_id is not None:
            if queue_id not in fake.queues.values():
                return error(10032)
            context["queueId"] = queue_id
        attributes = info.get("routingAttributes") or {}
        if any(len(str(v)) > fake.max_attribute_length for v in attributes.values()):
            return error(10096)
    psr = Psr(conversation, psr_id=fake.new_id("0JR"),
              work_item_id=fake.add_session(conversation),
              routing_correlation_id=str(uuid.uuid4()), routing_type=data["routingType"],
              routing_info=info)
    with fake._lock:
        fake.psrs[conversation] = psr
        fake.routings.append(psr)
    return 202, {}, {"success": True, "psrId": psr.psr_id, "workItemId": psr.work_item_id,
                     "routingCorrelationId": psr.routing_correlation_id,
                     "contextParamMap": context}


def _agent_work(fake: FakeSalesforce, data: dict[str, Any]) -> Reply:
    user_id, work_item_id = data.get("userId"), data.get("workItemId")
    if not isinstance(user_id, str) or user_id not in fake.users.values():
        return error(15106)
    if not isinstance(work_item_id, str) or len(work_item_id) != 15:
        return error(10089, message="workItemId must be a 15-character id")
    with fake._lock:
        psr = next((p for p in fake.psrs.values() if p.work_item_id == work_item_id), None)
        conversation = next((c for c, w in fake.sessions.items() if w == work_item_id), None)
        if psr is None and conversation is None:
            return error(15111, message=f"WorkItemId {work_item_id} for the MessagingSession "
                                        "ID not found.")
        if any(w["userId"] == user_id and w["workItemId"] == work_item_id and w["active"]
               for w in fake.agent_works):
            return error(15109)
        context = data.get("routingContext") or {}
        routings = fake.transfer_routings.get(conversation or "", set()) | (
            {psr.routing_correlation_id} if psr is not None else set())
        if context and context.get("routingCorrelationId") not in routings:
            return error(10089, message="routingContext.routingCorrelationId matches no "
                                        "routing of this work item")
        work = {"agentWorkId": fake.new_id("0Bz"), "userId": user_id,
                "workItemId": work_item_id, "routingContext": context, "active": True,
                "conversationIdentifier": psr.conversation_identifier if psr else conversation,
                "psrId": psr.psr_id if psr else None}
        fake.agent_works.append(work)
    details: dict[str, Any] = {"existPsr": psr is not None}
    if psr is not None:
        details["psrId"] = psr.psr_id
        details["routingContext"] = {"conversationIdentifier": psr.conversation_identifier,
                                     "routingType": psr.routing_type,
                                     "routingCorrelationId": psr.routing_correlation_id}
    return 202, {}, {"id": str(uuid.uuid4()), "agentWorkId": work["agentWorkId"],
                     "success": True, "agentWorkDetails": details}


def _routing_result(fake: FakeSalesforce, data: dict[str, Any]) -> Reply:
    """``RoutingResultRequest``: required fields, a 15-character work item of a known
    MessagingSession, an errorMessage exactly when the routing failed."""
    conversation, work_item_id = data.get("conversationIdentifier"), data.get("workItemId")
    if not isinstance(conversation, str) or not conversation:
        return error(10018)
    for name in ("success", "externallyRouted"):
        if not isinstance(data.get(name), bool):
            return error(10089, message=f"Invalid parameters passed to API: {name} must be "
                                        "a boolean")
    if not isinstance(work_item_id, str) or len(work_item_id) != 15:
        return error(10012)
    if data.get("routingType") is not None and data["routingType"] not in ROUTING_TYPES:
        return error(10089, message="routingType must be Initial, Transfer or Conference")
    if data["success"] and data.get("errorMessage"):
        return error(10033)
    if not data["success"] and not data.get("errorMessage"):
        return error(10034)
    with fake._lock:
        if fake.sessions.get(conversation, "")[:15] != work_item_id:
            return error(10012)
        fake.routing_results.append({**data, "received_at": time.time()})
    return 202, {}, {"success": True}


def decline_work(fake: FakeSalesforce, agent_work_id: str) -> None:
    """A rep declined: the AgentWork ends, the PSR stays for the next offer."""
    with fake._lock:
        for work in fake.agent_works:
            if work["agentWorkId"] == agent_work_id:
                work["active"] = False


def _delete_route(fake: FakeSalesforce, data: dict[str, Any]) -> Reply:
    conversation = data.get("conversationIdentifier")
    if not isinstance(conversation, str) or not conversation:
        return error(10018)
    reason = data.get("cancelReason")
    if reason is not None:
        if not fake.accept_cancel_reason:
            return error(10076)
        if reason not in CANCEL_REASONS:
            return error(10089, message="cancelReason must be Unknown, Unavailable, Decline "
                                        "or Cancel")
    with fake._lock:
        psr = fake.psrs.pop(conversation, None)
        fake.deleted_routes.append({"conversationIdentifier": conversation,
                                    "cancelReason": reason, "existed": psr is not None})
    return 202, {}, {"success": psr is not None}

