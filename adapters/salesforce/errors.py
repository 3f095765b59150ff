"""Salesforce failures as :mod:`connector.core.errors`, decided in one table.

The Interaction Service answers errors as ``{"code": <int>, "message": "..."}`` (the
``Error`` schema of its OpenAPI). Whether a retry can help is a property of the code,
not of the HTTP status, so :data:`INTERACTION_ERRORS` is keyed by code; the status only
decides for codes the table does not list. The REST API answers
``[{"errorCode": "...", "message": "..."}]``; :data:`REST_ERRORS` maps those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.core.errors import (
    AuthenticationFailed,
    CrmError,
    PermanentCrmError,
    RateLimited,
    TransientCrmError,
)


class InvalidToken(AuthenticationFailed):
    """The access token is invalid or expired: renew it once and try again."""


@dataclass(frozen=True)
class ErrorKind:
    error: type[CrmError]
    message: str


INTERACTION_ERRORS: dict[int, ErrorKind] = {
    # retryable, as the error text itself says ("Please retry", "try again later")
    10055: ErrorKind(TransientCrmError, "Conversation precondition failed. Please retry."),
    10056: ErrorKind(TransientCrmError, "Conversation processing aborted. Please retry."),
    10094: ErrorKind(TransientCrmError, "The request failed due to a timeout from a "
                                        "downstream service."),
    10019: ErrorKind(TransientCrmError, "The service is in read-only mode because an org "
                                        "migration is in progress."),
    # authorization: fix the connected app or the channel definition, retrying cannot help
    10001: ErrorKind(AuthenticationFailed, "The AuthorizationContext isn't valid for the "
                                           "conversation's channel address."),
    10003: ErrorKind(AuthenticationFailed, "The access token is missing the connected app "
                                           "scope interaction_api."),
    10004: ErrorKind(InvalidToken, "The access token is not valid."),
    10005: ErrorKind(AuthenticationFailed, "The AuthorizationContext isn't valid for the "
                                           "access token."),
    10070: ErrorKind(AuthenticationFailed, "The channel address isn't configured with the "
                                           "AuthorizationContext."),
    # the request itself is wrong
    10016: ErrorKind(PermanentCrmError, "A required header is missing or invalid."),
    10018: ErrorKind(PermanentCrmError, "The conversation identifier is not valid."),
    10024: ErrorKind(PermanentCrmError, "Flow-based routing needs both a flow id and a "
                                        "fallback queue id."),
    10030: ErrorKind(PermanentCrmError, "Specify either a flow or a queue, not both."),
    10032: ErrorKind(PermanentCrmError, "The queue id is invalid."),
    10076: ErrorKind(PermanentCrmError, "The org does not accept a cancelReason on DELETE "
                                        "route yet."),
    10089: ErrorKind(PermanentCrmError, "Invalid parameters passed to the API."),
    10096: ErrorKind(PermanentCrmError, "A routing attribute value is longer than the channel "
                                        "variable allows."),
    10100: ErrorKind(PermanentCrmError, "A request body is required."),
    15106: ErrorKind(PermanentCrmError, "Invalid user id."),
    15109: ErrorKind(PermanentCrmError, "An active AgentWork already exists for this user and "
                                        "work item."),
    15111: ErrorKind(PermanentCrmError, "The work item was not found."),
    15112: ErrorKind(PermanentCrmError, "The rep's presence status is not associated with the "
                                        "channel of this work."),
}

REST_ERRORS: dict[str, ErrorKind] = {
    "REQUEST_LIMIT_EXCEEDED": ErrorKind(RateLimited, "The org's API request limit is "
                                                     "exceeded."),
    "INVALID_SESSION_ID": ErrorKind(InvalidToken, "Session expired or invalid."),
    "SERVER_UNAVAILABLE": ErrorKind(TransientCrmError, "Salesforce is unavailable."),
    "UNABLE_TO_LOCK_ROW": ErrorKind(TransientCrmError, "The record is locked by another "
                                                       "update."),
}

#: per-record errors of sObject Collections worth trying again later
RETRYABLE_RECORD_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})


def _by_status(status: int) -> type[CrmError]:
    if status == 429 or status >= 500:
        return RateLimited if status == 429 else TransientCrmError
    if status == 401:
        return InvalidToken
    return PermanentCrmError


def interaction_error(status: int, body: Any, operation: str,
                      retry_after: float | None = None) -> CrmError:
    """The error for a non-2xx Interaction Service answer; the message names the code."""
    code: int | None = None
    text = ""
    if isinstance(body, dict):
        raw = body.get("code")
        try:
            code = int(raw) if raw is not None else None
        except (TypeError, ValueError):
            code = None
        text = str(body.get("message") or "")[:300]
    kind = INTERACTION_ERRORS.get(code) if code is not None else None
    cls = kind.error if kind else _by_status(status)
    if code == 500:
        cls = TransientCrmError
    readable = kind.message if kind else (text or f"HTTP {status}")
    message = f"Interaction Service {operation} failed: {readable}"
    if text and kind and text != kind.message:
        message += f" ({text})"
    kw: dict[str, Any] = {"status": status, "code": str(code) if code is not None else None}
    if cls is RateLimited:
        return RateLimited(message, retry_after=retry_after, **kw)
    return cls(message, **kw)


def rest_error(status: int, body: Any, operation: str,
               retry_after: float | None = None) -> CrmError:
    """The error for a non-2xx REST API answer (``[{"errorCode", "message"}]``)."""
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    if isinstance(body, dict):
        first = body
    code = str(first.get("errorCode") or "") or None
    text = str(first.get("message") or "")[:300]
    kind = REST_ERRORS.get(code or "")
    cls = kind.error if kind else _by_status(status)
    message = f"Salesforce {operation} failed: {text or (kind.message if kind else status)}"
    if cls is RateLimited:
        return RateLimited(message, retry_after=retry_after, status=status, code=code)
    return cls(message, status=status, code=code)
