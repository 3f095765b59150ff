"""Interaction Service client for partner-owned routing (Bring Your Own Channel for CCaaS).

``POST v1/route`` opens a pending service routing (PSR) for a conversation, ``POST
v1/agentWork`` offers its work item to a rep, ``POST v1/routingResult`` tells Salesforce
how a transfer it asked for (``RoutingRequested``) ended, ``DELETE v1/route`` clears a PSR
nobody took. Every call carries Authorization (JWT bearer token), OrgId (15 characters),
the AuthorizationContext (the ConversationChannelDefinition developer name) and a
RequestId: one UUID per logical request, sent again unchanged by its retries. Salesforce
documents the RequestId as a reference ("UUID that references this request"), not as an
idempotency key, so a ``POST v1/route`` whose answer was lost (read timeout, 5xx,
downstream timeout 10094) is not sent again here: it raises
:class:`~adapters.salesforce.errors.AmbiguousOutcome` and the service decides.
Bodies are ``application/json`` (Salesforce's OpenAPI and sample
connector); ``encoding="multipart"`` sends ``multipart/form-data`` with the JSON in a part
named ``json``, as the product documentation describes.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import requests

from adapters.common.budget import CallBudget, UnlimitedBudget
from connector.core.errors import CrmError, PermanentCrmError, TransientCrmError
from connector.core.ports import RouteAccepted, RouteRequest

from .auth import JwtBearerAuth
from .errors import AmbiguousOutcome, interaction_error
from .retry import RetryPolicy, call_with_retries, parse_retry_after, renewing

_ORG_ID = re.compile(r"^00D[0-9A-Za-z]{12}$")
ENCODINGS = ("json", "multipart")
CANCEL_REASONS = ("Unknown", "Unavailable", "Decline", "Cancel")
#: the least time an attempt is given when its deadline is (nearly) reached
MIN_ATTEMPT_SECONDS = 0.05


def validate_org_id(value: str, variable: str = "BYOC_ORG_ID") -> str:
    """The 15-character org id the OrgId header needs (an 18-character id is refused with
    the 15-character form in the message, so the setting can be fixed)."""
    value = (value or "").strip()
    if _ORG_ID.match(value):
        return value
    if len(value) == 18 and _ORG_ID.match(value[:15]):
        raise ValueError(f"{variable} must be the 15-character org id; use {value[:15]!r}")
    raise ValueError(f"{variable} must be a 15-character Salesforce org id starting with "
                     "00D")


def route_body(request: RouteRequest) -> dict[str, Any]:
    """The ``PostRouteRequest`` body: no ``routingInfo`` defers to the channel's setting."""
    body: dict[str, Any] = {"conversationIdentifier": request.conversation_identifier,
                            "routingType": request.routing_type}
    info: dict[str, Any] = {}
    if request.flow_id:
        flow = {"flowId": request.flow_id}
        if request.fallback_queue_id:
            flow["queueId"] = request.fallback_queue_id
        info["flow"] = flow
    elif request.queue_id:
        info["queueId"] = request.queue_id
    if request.routing_attributes:
        info["routingAttributes"] = {str(k): "" if v is None else str(v)
                                     for k, v in request.routing_attributes.items()}
    if info:
        body["routingInfo"] = info
    return body


def _maybe_done(exc: CrmError) -> bool:
    """Whether Salesforce may have carried out a request that failed this way: no answer
    after it was sent (read timeout), a 5xx, or a downstream timeout (10094). A refused
    connection or a 409 "please retry" (10055, 10056) certainly did nothing."""
    if not exc.retryable:
        return False
    if exc.code in ("read-timeout", "10094", "500"):
        return True
    return exc.status is not None and exc.status >= 500 and exc.code not in ("10019",)


class InteractionClient:
    """Implements :class:`connector.core.ports.ConversationRouter`."""

    def __init__(
        self,
        *,
        scrt_url: str,
        org_id: str,
        authorization_context: str,
        auth: JwtBearerAuth,
        encoding: str = "json",
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | tuple[float, float] = (5.0, 20.0),
        sleep: Callable[[float], None] = time.sleep,
        budget: CallBudget | None = None,
    ) -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"BYOC_ROUTE_ENCODING must be one of {', '.join(ENCODINGS)}")
        if not authorization_context:
            raise ValueError("BYOC_AUTHORIZATION_CONTEXT is not set")
        self.base_url = scrt_url.rstrip("/") + "/api/v1"
        self.org_id = validate_org_id(org_id)
        self.authorization_context = authorization_context
        self.encoding = encoding
        self._auth = auth
        self._session = session or requests.Session()
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._sleep = sleep
        #: calls per org per window, shared by every worker when it lives in Redis
        self._budget = budget or UnlimitedBudget()
        self.calls = 0

    def __repr__(self) -> str:
        return f"InteractionClient(base_url={self.base_url!r}, org_id={self.org_id!r})"

    # ConversationRouter ------------------------------------------------------------------
    def route(self, request: RouteRequest) -> RouteAccepted:
        data = self._call("POST", "route", route_body(request), request.request_id,
                          deadline_at=request.deadline_at, encode=True, once_sent=True)
        context = data.get("contextParamMap") or {}
        if data.get("success") is False:
            reason = data.get("reasonForNotRouting") or (data.get("errors") or {}).get(
                "errorMessage") or "no reason given"
            raise PermanentCrmError(f"Interaction Service route not routed: {reason}",
                                    status=202,
                                    code=(data.get("errors") or {}).get("apiErrorCode"))
        return RouteAccepted(psr_id=data.get("psrId"), work_item_id=data.get("workItemId"),
                             routing_correlation_id=data.get("routingCorrelationId"),
                             context={str(k): str(v) for k, v in context.items()})

    def assign_agent_work(self, *, user_id: str, work_item_id: str,
                          routing_context: Mapping[str, Any], request_id: str,
                          deadline_at: float | None = None) -> str | None:
        if len(work_item_id) == 18:  # the API takes the 15-character form only
            work_item_id = work_item_id[:15]
        body: dict[str, Any] = {"userId": user_id, "workItemId": work_item_id}
        if routing_context and all(routing_context.values()):
            # all three or none: the spec's RoutingContext requires each of them
            body["routingContext"] = dict(routing_context)
        data = self._call("POST", "agentWork", body, request_id, deadline_at=deadline_at)
        return data.get("agentWorkId")

    def send_routing_result(self, *, conversation_identifier: str, work_item_id: str,
                            success: bool, externally_routed: bool = False,
                            routing_type: str | None = None, error_message: str | None = None,
                            request_id: str, deadline_at: float | None = None) -> bool:
        """``POST v1/routingResult``: the ``RoutingResultRequest``. ``errorMessage`` only on
        failure (Salesforce refuses it on success, 10033, and needs it on failure, 10034)."""
        body: dict[str, Any] = {"conversationIdentifier": conversation_identifier,
                                "workItemId": work_item_id[:15], "success": bool(success),
                                "externallyRouted": bool(externally_routed)}
        if routing_type:
            body["routingType"] = routing_type
        if not success:
            body["errorMessage"] = (error_message or "routing failed")[:1000]
        data = self._call("POST", "routingResult", body, request_id, deadline_at=deadline_at)
        return bool(data.get("success", True))

    def cancel_route(self, *, conversation_identifier: str, cancel_reason: str,
                     request_id: str) -> bool:
        if cancel_reason not in CANCEL_REASONS:
            raise ValueError(f"cancel_reason must be one of {', '.join(CANCEL_REASONS)}")
        body = {"conversationIdentifier": conversation_identifier,
                "cancelReason": cancel_reason}
        try:
            data = self._call("DELETE", "route", body, request_id)
        except CrmError as exc:
            if exc.code != "10076":
                raise
            # an org that predates cancelReason: clear the PSR without it
            data = self._call("DELETE", "route",
                              {"conversationIdentifier": conversation_identifier},
                              str(uuid.uuid4()))
        return bool(data.get("success", True))

    # plumbing ------------------------------------------------------------------------------
    def _headers(self, request_id: str, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}",
                "OrgId": self.org_id, "AuthorizationContext": self.authorization_context,
                "RequestId": request_id, "Accept": "application/json"}

    def _call(self, method: str, path: str, body: dict[str, Any], request_id: str, *,
              deadline_at: float | None = None, encode: bool = False,
              once_sent: bool = False) -> dict[str, Any]:
        """``once_sent``: a call that may have been carried out without an answer is not
        repeated (it raises AmbiguousOutcome); refusals Salesforce answered are retried."""
        deadline = None
        if deadline_at is not None:
            deadline = time.monotonic() + (deadline_at - time.time())
        operation = f"{method} v1/{path}"

        def attempt() -> dict[str, Any]:
            sent: list[str] = []  # the token this attempt used, so that threads meeting
            # the same expired token log in once between them (see JwtBearerAuth.renew)

            def once() -> dict[str, Any]:
                sent[:] = [self._auth.access_token()]
                try:
                    return self._attempt(method, path, body, request_id, encode, operation,
                                         sent[0], deadline)
                except CrmError as exc:
                    if once_sent and _maybe_done(exc):
                        raise AmbiguousOutcome(str(exc.message), status=exc.status,
                                               code=exc.code, retryable=False) from None
                    raise

            return renewing(once, lambda: self._auth.renew(sent[0] if sent else None))

        return call_with_retries(attempt, self.retry, deadline=deadline, sleep=self._sleep)

    def _timeout(self, deadline: float | None) -> float | tuple[float, float]:
        """The configured timeout, cut to the time left before the deadline, so one slow
        attempt cannot run past it."""
        if deadline is None:
            return self.timeout
        left = max(deadline - time.monotonic(), MIN_ATTEMPT_SECONDS)
        if isinstance(self.timeout, tuple):
            return (min(self.timeout[0], left), min(self.timeout[1], left))
        return min(self.timeout, left)

    def _attempt(self, method: str, path: str, body: dict[str, Any], request_id: str,
                 encode: bool, operation: str, token: str,
                 deadline: float | None = None) -> dict[str, Any]:
        headers = self._headers(request_id, token)
        kwargs: dict[str, Any] = {}
        if encode and self.encoding == "multipart":
            kwargs["files"] = {"json": (None, json.dumps(body), "application/json")}
        else:
            kwargs["json"] = body
        # a call with a deadline (a transfer) waits for the org's call budget no longer
        # than the time it has left
        self._budget.acquire(None if deadline is None else
                             max(deadline - time.monotonic(), MIN_ATTEMPT_SECONDS))
        self.calls += 1
        try:
            resp = self._session.request(method, f"{self.base_url}/{path}", headers=headers,
                                         timeout=self._timeout(deadline), **kwargs)
        except requests.ConnectTimeout:
            raise TransientCrmError(f"Interaction Service {operation}: connection timed out",
                                    code="connect-timeout") from None
        except requests.Timeout:
            raise TransientCrmError(f"Interaction Service {operation} timed out",
                                    code="read-timeout") from None
        except requests.ConnectionError:
            raise TransientCrmError(f"Interaction Service {operation}: connection failed") \
                from None
        try:
            data = resp.json() if resp.content else {}
        except ValueError:
            data = {}
        if resp.status_code >= 400:
            raise interaction_error(resp.status_code, data, operation,
                                    parse_retry_after(resp.headers.get("Retry-After")))
        return data if isinstance(data, dict) else {}
