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

from adapters.common.retry import STATUS_ERRORS, crm_error, error_class
from connector.core.errors import (
    AuthenticationFailed,
    CrmError,
    PermanentCrmError,
    RateLimited,
    TransientCrmError,
)


class InvalidToken(AuthenticationFailed):
    """The access token is invalid or expired: renew it once and try again."""


class RepUnavailable(PermanentCrmError):
    """This rep cannot take the work (not a valid user, no Partner Messaging, presence not
    on the channel): the work goes to the next eligible rep instead."""


class AmbiguousOutcome(TransientCrmError):
    """The call may have been carried out although no answer came back (a read timeout,
    a downstream timeout, a 5xx). Sending it again could route a conversation twice, so
    the caller decides (see ``connector.service.byoc``)."""


#: what to do about an Interaction Service error code
RETRY, RENEW_TOKEN, PERMANENT, NEXT_REP = "retry", "renew token", "permanent", "next rep"
ACTION_ERRORS: dict[str, type[CrmError]] = {
    RETRY: TransientCrmError, RENEW_TOKEN: InvalidToken, PERMANENT: PermanentCrmError,
    NEXT_REP: RepUnavailable}


@dataclass(frozen=True)
class ErrorKind:
    error: type[CrmError]
    message: str


#: permanent refusals of our credentials or channel set-up (fix the connected app)
_AUTH_CODES = frozenset({10001, 10003, 10005, 10070, 10093})


def _kind(code: int, action: str, message: str) -> ErrorKind:
    error = AuthenticationFailed if code in _AUTH_CODES else ACTION_ERRORS[action]
    return ErrorKind(error, message)


#: every code of ERRORCODES.md, classified. Retry: the text says so, or the service was
#: briefly unable (read-only org migration, downstream timeout, pod lookup, 500). Renew
#: the token: 10004 only (the token itself is invalid). Next rep: the refusal is about the
#: rep the work was offered to (invalid user, no Partner Messaging, presence status not
#: on the channel), so another rep can take it. Everything else is permanent: the request,
#: the org's setup or the connected app must change, and sending it again cannot help.
_CODES: dict[int, tuple[str, str]] = {
    10001: (PERMANENT, "The AuthorizationContext isn't valid for the conversation's channel "
                       "address."),
    10002: (PERMANENT, "The channel type of the channel address isn't valid."),
    10003: (PERMANENT, "The access token is missing the connected app scope "
                       "interaction_api."),
    10004: (RENEW_TOKEN, "The access token is not valid."),
    10005: (PERMANENT, "The AuthorizationContext isn't valid for the access token."),
    10006: (PERMANENT, "The channel provider of the channel address isn't valid."),
    10007: (PERMANENT, "The file ID field is empty."),
    10008: (PERMANENT, "The file exceeds 25 MB."),
    10009: (PERMANENT, "The file is empty or doesn't exist."),
    10010: (PERMANENT, "The interaction contentLength field is empty."),
    10011: (PERMANENT, "The attachment interactions don't match the attachment files."),
    10012: (PERMANENT, "The workItemId isn't valid for the MessagingSession."),
    10013: (PERMANENT, "Give either capacityPercentage or capacityWeight, not both."),
    10014: (PERMANENT, "The capacity weight must be 0 or more."),
    10015: (PERMANENT, "The capacity percentage must be between 0 and 100."),
    10016: (PERMANENT, "A required header is missing or invalid."),
    10017: (PERMANENT, "The channelAddressIdentifier does not exist."),
    10018: (PERMANENT, "The conversation identifier is not valid."),
    10019: (RETRY, "The service is in read-only mode because an org migration is in "
                   "progress."),
    10020: (PERMANENT, "The endUserClientId is not valid."),
    10021: (PERMANENT, "The consent status value is not valid."),
    10022: (PERMANENT, "Consent can't be updated: the channel's consent owner isn't "
                       "Partner."),
    10023: (PERMANENT, "Consent can't be updated: the channel supports keywords."),
    10024: (PERMANENT, "Flow-based routing needs both a flow id and a fallback queue id."),
    10025: (PERMANENT, "No conversation for the channel address and CUSTOM channel type."),
    10026: (PERMANENT, "The channel address has no conversation channel definition."),
    10027: (PERMANENT, "The \"to\" field isn't valid."),
    10028: (PERMANENT, "The \"from\" field isn't valid."),
    10029: (PERMANENT, "The interaction list isn't valid."),
    10030: (PERMANENT, "Specify either a flow or a queue, not both."),
    10031: (PERMANENT, "The channel address is not active."),
    10032: (PERMANENT, "The queue id is invalid."),
    10033: (PERMANENT, "A successful routing result must not carry an error message."),
    10034: (PERMANENT, "A failed routing result needs an error message."),
    10035: (PERMANENT, "The messaging channel is not of type CUSTOM."),
    10036: (PERMANENT, "The participant does not exist."),
    10037: (PERMANENT, "The AppType is not supported."),
    10038: (PERMANENT, "The participant role is not supported."),
    10039: (PERMANENT, "The conversation has no participants."),
    10042: (PERMANENT, "Include one end user participant."),
    10043: (PERMANENT, "Invalid participant role: Chatbot or EndUser."),
    10044: (PERMANENT, "Include only one end user participant."),
    10045: (PERMANENT, "The message entry format is not valid."),
    10046: (PERMANENT, "The clientTimestamp is outside the allowed time frame."),
    10047: (PERMANENT, "The message type is invalid."),
    10048: (PERMANENT, "The format type is invalid."),
    10049: (PERMANENT, "The message type and format type don't go together."),
    10050: (PERMANENT, "The custom integration is invalid."),
    10051: (PERMANENT, "The attachment's file size is incorrect."),
    10052: (PERMANENT, "The channelAddressIdentifier of the conversation request isn't "
                       "valid."),
    10053: (PERMANENT, "The participants of the conversation request are invalid or "
                       "empty."),
    10054: (PERMANENT, "The participant's subject is invalid."),
    10055: (RETRY, "Conversation precondition failed. Please retry."),
    10056: (RETRY, "Conversation processing aborted. Please retry."),
    10057: (PERMANENT, "No access to the ConversationHistory API."),
    10058: (PERMANENT, "Customer error."),
    10059: (PERMANENT, "Interaction ID or Message ID is empty."),
    10060: (PERMANENT, "Interaction ID and Message ID are mismatched."),
    10061: (PERMANENT, "The messaging session StartTime is invalid."),
    10062: (PERMANENT, "The end user's message type is not supported."),
    10063: (PERMANENT, "The org can't take a messaging session in ConversationHistory."),
    10064: (PERMANENT, "The messaging session EndTime is invalid."),
    10065: (PERMANENT, "Invalid end-user participant details."),
    10066: (PERMANENT, "Invalid chatbot participant details."),
    10067: (PERMANENT, "joinedTime must be earlier than leftTime."),
    10068: (PERMANENT, "The message isn't from an approved participant."),
    10069: (PERMANENT, "The channel address or the authorization configuration is invalid."),
    10070: (PERMANENT, "The channel address isn't configured with the AuthorizationContext."),
    10071: (PERMANENT, "Session is not found."),
    10072: (PERMANENT, "The session ID is invalid."),
    10073: (PERMANENT, "Message IDs must be unique."),
    10074: (PERMANENT, "The message timestamp is outside the sender's time in the "
                       "conversation."),
    10075: (PERMANENT, "The org does not take routingType Conference on the Routing API "
                       "yet."),
    10076: (PERMANENT, "The org does not accept a cancelReason on DELETE route yet."),
    10077: (PERMANENT, "The org does not take agentAction Conference on the AgentWork API "
                       "yet."),
    10078: (PERMANENT, "An invalid payload parameter."),
    10082: (PERMANENT, "The workId is invalid."),
    10083: (PERMANENT, "The context type is invalid."),
    10084: (PERMANENT, "The botId is invalid."),
    10085: (PERMANENT, "The status is invalid."),
    10086: (PERMANENT, "The ExternalBotId is invalid."),
    10087: (PERMANENT, "The AuthorizationContext isn't valid for the botId."),
    10088: (PERMANENT, "The bot is inactive."),
    10089: (PERMANENT, "Invalid parameters passed to the API."),
    10090: (PERMANENT, "The StartTime for conversation entries is invalid."),
    10091: (PERMANENT, "EndTime must be after StartTime."),
    10092: (PERMANENT, "The limit is out of range."),
    10093: (PERMANENT, "Invalid authorization context type."),
    10094: (RETRY, "The request failed due to a timeout from a downstream service."),
    10095: (PERMANENT, "The MIME type of the file cannot be determined."),
    10096: (PERMANENT, "A routing attribute value is longer than the channel variable "
                       "allows."),
    10097: (PERMANENT, "Invalid Participant API operation."),
    10098: (PERMANENT, "progressIndicatorCapability can't be empty."),
    10099: (PERMANENT, "The org does not have the required permissions."),
    10100: (PERMANENT, "A request body is required."),
    10101: (PERMANENT, "Duplicate participants."),
    10102: (PERMANENT, "Invalid operation type for POST messaging session."),
    10103: (PERMANENT, "Invalid operationBy for POST messaging session."),
    10104: (PERMANENT, "No access to the MessagingSession record."),
    10105: (PERMANENT, "End user not found."),
    10106: (PERMANENT, "The Messaging Session ID is missing."),
    15102: (PERMANENT, "Contact Center as a Service is not enabled."),
    15103: (PERMANENT, "The Messaging End User is not fully opted in."),
    15104: (PERMANENT, "The messaging channel is not linked to a contact center."),
    15105: (NEXT_REP, "The user lacks Partner Messaging."),
    15106: (NEXT_REP, "Invalid user id."),
    15107: (PERMANENT, "The conversationId does not match the work item's conversation."),
    15108: (PERMANENT, "No service channel for this messaging session."),
    15109: (PERMANENT, "An active AgentWork already exists for this user and work item."),
    15110: (PERMANENT, "The workItemId isn't valid for the MessagingSession."),
    15111: (PERMANENT, "The work item was not found."),
    15112: (NEXT_REP, "The rep's presence status is not associated with the channel of this "
                      "work."),
    20002: (RETRY, "Salesforce could not read the conversation list for the end user "
                   "address."),
    20003: (PERMANENT, "Empty interaction list in the request."),
    20004: (RETRY, "Salesforce could not find the pod to read the org's permissions."),
    25005: (PERMANENT, "No Messaging End User for the work item."),
    25006: (PERMANENT, "No conversation for the work item."),
    25007: (PERMANENT, "No conversationId for the work item."),
    500: (RETRY, "An internal server error occurred at Salesforce."),
}
INTERACTION_ERRORS: dict[int, ErrorKind] = {code: _kind(code, action, message)
                                            for code, (action, message) in _CODES.items()}


def action_for(code: int) -> str | None:
    """The documented class of an Interaction Service error code (None when unknown)."""
    entry = _CODES.get(code)
    return entry[0] if entry else None


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


#: the shared status table, where a 401 means the token must be renewed
STATUS_ERRORS_SF = {**STATUS_ERRORS, 401: InvalidToken}


def _by_status(status: int) -> type[CrmError]:
    return error_class(status, STATUS_ERRORS_SF)


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
    readable = kind.message if kind else (text or f"HTTP {status}")
    message = f"Interaction Service {operation} failed: {readable}"
    if text and kind and text != kind.message:
        message += f" ({text})"
    return crm_error(cls, message, status=status, code=str(code) if code is not None else None,
                     retry_after=retry_after)


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
    return crm_error(cls, message, status=status, code=code, retry_after=retry_after)
