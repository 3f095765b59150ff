"""``POST /webhooks/salesforce`` (signed BYOC events) and ``POST
/webhooks/salesforce/outbound/<secret>`` (Outbound Messages).

An Outbound Message carries no signature, and its ``OrganizationId`` is public (every
Web-to-Lead form shows it), so the org id alone proves nothing. What the Outbound Message
definition can carry is its endpoint URL: the URL holds a secret of
``SALESFORCE_OUTBOUND_SECRETS`` as its last path segment, checked in constant time
against each configured one (several during a rotation) before the body is read. A
message without it, or with another, gets a 401 SOAP fault and nothing is stored. With
``SALESFORCE_OUTBOUND_VERIFY_SESSION=true`` the message's ``SessionId`` must also be a
session of the org, asked of Salesforce once per session and remembered
(:mod:`connector.web.salesforce_session`).

Both only verify, parse and store: one durable, deduplicated insert into the inbox, then
the answer (2xx / SOAP Ack) and a nudge to the executor. No other Salesforce call happens
on this path. A route whose secret or org id is not configured answers 503 naming the setting
and reads nothing, so the check can never be skipped by a missing setting.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from connector.config import ConfigError
from connector.core.errors import SignatureInvalid
from connector.core.webhook_signature import HEADER, verify
from connector.jobs.inbox import NewEvent, store_events

from .auth import require_account
from .errors import ApiError
from .salesforce_payloads import PayloadError, ack, fault, parse_byoc, parse_outbound_message
from .salesforce_session import SalesforceUnavailable, SessionRefused, SessionVerifier

log = logging.getLogger(__name__)
SOURCE = "salesforce"
KIND = "salesforce"
#: an Outbound Message secret travels in a URL path: URL-safe characters, long enough
MIN_OUTBOUND_SECRET = 24
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
#: ``app.extensions`` key of the session check (SALESFORCE_OUTBOUND_VERIFY_SESSION)
SESSION_VERIFIER = "salesforce_outbound_sessions"
OUTBOUND_SECRET_RECIPE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _container():
    return current_app.config["CONTAINER"]


def _notify() -> None:
    executor = _container().executor
    if executor is not None:
        executor.notify()


def _register_org(account_key: str) -> None:
    """Link the configured org to its account before its first event is stored, so the
    event is the account's from the start (a read once linked)."""
    from connector.service.sources import register_configured_org

    ports = _container().extras.get("salesforce_ports")
    register_configured_org(_container().db, account_key, getattr(ports, "account_id", None))


def _byoc_events() -> Response:
    config = _container().config
    body = request.get_data(cache=False)
    try:
        verify(config.salesforce_webhook_secret or "", request.headers.get(HEADER), body,
               time.time())
    except SignatureInvalid as exc:
        raise ApiError(401, f"Invalid signature: {exc}") from None
    try:
        parsed = parse_byoc(body)
    except PayloadError as exc:
        raise ApiError(400, str(exc)) from None
    account_key = (config.salesforce_org_id or config.byoc_org_id or "default")[:15]
    _register_org(account_key)
    now = time.time()
    events = [NewEvent(SOURCE, account_key, f"byoc:{key}", KIND,
                       {"eventType": kind, "data": data, "received_at": now})
              for kind, key, data in parsed]
    new = store_events(_container().db, events)
    _notify()
    return jsonify({"received": len(events), "duplicates": len(events) - new})


def _soap(body: bytes, status: int) -> Response:
    return Response(body, status=status, content_type="text/xml; charset=utf-8")


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def outbound_secret_matches(sent: str, secrets: tuple[str, ...]) -> bool:
    """Whether ``sent`` is one of ``secrets``, in time that depends on neither (digests of
    equal length compared with ``hmac.compare_digest``, every secret compared)."""
    sent_digest = _digest(sent)
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(sent_digest, _digest(secret))
    return found


def _refused(message: str) -> Response:
    return _soap(fault(message), 401)


def _outbound_without_secret() -> Response:
    return _refused("This endpoint needs its secret: set the Outbound Message's endpoint "
                    "URL to /webhooks/salesforce/outbound/<secret>, a value of "
                    "SALESFORCE_OUTBOUND_SECRETS")


def _outbound_with_secret(secret: str) -> Response:
    if not outbound_secret_matches(secret, _container().config.salesforce_outbound_secrets):
        return _refused("The secret in the endpoint URL is not one of "
                        "SALESFORCE_OUTBOUND_SECRETS")
    return _outbound_messages()


def _outbound_messages() -> Response:
    expected = (_container().config.salesforce_org_id or "")[:15]
    try:
        message = parse_outbound_message(request.get_data(cache=False))
    except PayloadError as exc:
        return _soap(fault(str(exc)), 500)
    org, notes = message.org_id, message.notifications
    if org[:15] != expected:
        return _soap(fault("OrganizationId does not match this connector's org"), 500)
    verifier: SessionVerifier | None = current_app.extensions.get(SESSION_VERIFIER)
    if verifier is not None:
        try:
            verifier.verify(expected, message.session_id, message.enterprise_url)
        except SessionRefused as exc:
            return _refused(str(exc))
        except SalesforceUnavailable as exc:
            return _soap(fault(str(exc), "soapenv:Server"), 503)
    _register_org(expected)
    now = time.time()
    events = [NewEvent(SOURCE, expected, f"outbound:{n['id']}", KIND,
                       {"eventType": "OutboundMessage", "sobject": n["sobject"],
                        "record": n["record"], "received_at": now}) for n in notes]
    try:
        store_events(_container().db, events)
    except Exception:  # noqa: BLE001 - no Ack unless stored; Salesforce will resend
        log.exception("storing Outbound Message failed")
        return _soap(fault("could not store the notifications; retry", "soapenv:Server"), 500)
    _notify()
    return _soap(ack(), 200)


@require_account
def _conversation(identifier: str) -> Response:
    """A BYOC conversation's routing state, with the decision that placed it."""
    from connector.store import salesforce as store
    from connector.store.models import DecisionRow
    from connector.store.repositories import decision_as_dict

    with _container().db.read_session() as session:
        row = store.conversation(session, g.account_id, identifier)
        if row is None:
            raise ApiError(404, "Conversation not found")
        body = store.conversation_as_dict(row)
        decision = session.get(DecisionRow, row.decision_id) if row.decision_id else None
        body["decision"] = decision_as_dict(decision) if decision is not None else None
        body["offers"] = [store.offer_as_dict(o) for o in store.offers(session, row.id)]
    return jsonify(body)


@require_account
def _retry_conversation(identifier: str) -> tuple[Response, int]:
    """Route a failed BYOC conversation again, or hand it to a queue (carried out by a
    worker, like every Salesforce call)."""
    from connector.service.byoc import RetryRefused, request_retry

    body = request.get_json(silent=True)
    if body is None and request.get_data():
        raise ApiError(400, "body must be a JSON object")
    body = body or {}
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    unknown = sorted(set(body) - {"queue_id"})
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0]!r}; only queue_id is accepted")
    try:
        request_retry(_container().db, g.account_id, identifier, body.get("queue_id"))
    except RetryRefused as exc:
        raise ApiError(exc.status, str(exc)) from None
    _notify()
    return jsonify({"queued": True, "conversation_identifier": identifier,
                    "queue_id": body.get("queue_id")}), 202


def _off(message: str):
    """A route whose settings are missing: 503 naming them, nothing read or stored."""

    def view() -> Response:
        raise ApiError(503, message)

    return view


def _check_outbound_secrets(secrets: tuple[str, ...]) -> None:
    """Refuse at start a secret that is short or would need escaping in a URL."""
    for secret in secrets:
        if len(secret) < MIN_OUTBOUND_SECRET or not _URL_SAFE.fullmatch(secret):
            raise ConfigError(f"SALESFORCE_OUTBOUND_SECRETS: each secret must be at least "
                              f"{MIN_OUTBOUND_SECRET} characters of A-Z, a-z, 0-9, '-' and "
                              f"'_'. Make one with: {OUTBOUND_SECRET_RECIPE}")


def register(app: Flask) -> None:
    """Serve the routes whose settings are present (called by bootstrap's hook)."""
    config = app.config["CONTAINER"].config
    bp = Blueprint("salesforce_webhooks", __name__)
    if config.salesforce_webhook_secret:
        bp.add_url_rule("/webhooks/salesforce", "byoc_events", _byoc_events, methods=["POST"])
    else:
        log.warning("SALESFORCE_WEBHOOK_SECRET is not set: POST /webhooks/salesforce is off")
        bp.add_url_rule("/webhooks/salesforce", "byoc_events_off",
                        _off("Salesforce BYOC webhooks are disabled: "
                             "SALESFORCE_WEBHOOK_SECRET is not set"), methods=["POST"])
    _check_outbound_secrets(config.salesforce_outbound_secrets)
    missing = [name for name, value in (("SALESFORCE_ORG_ID", config.salesforce_org_id),
                                        ("SALESFORCE_OUTBOUND_SECRETS",
                                         config.salesforce_outbound_secrets)) if not value]
    outbound = "/webhooks/salesforce/outbound"
    if not missing:
        if config.salesforce_outbound_verify_session:
            app.extensions[SESSION_VERIFIER] = SessionVerifier(config.salesforce_instance_url)
        bp.add_url_rule(outbound, "outbound_messages_no_secret", _outbound_without_secret,
                        methods=["POST"])
        bp.add_url_rule(outbound + "/<path:secret>", "outbound_messages",
                        _outbound_with_secret, methods=["POST"])
    else:
        if config.salesforce_org_id:
            log.warning("SALESFORCE_OUTBOUND_SECRETS is not set: Outbound Messages are "
                        "refused until it is")
        off = _off(f"Salesforce Outbound Messages are disabled: {' and '.join(missing)} "
                   f"{'is' if len(missing) == 1 else 'are'} not set")
        bp.add_url_rule(outbound, "outbound_messages_off", off, methods=["POST"])
        bp.add_url_rule(outbound + "/<path:secret>", "outbound_messages_secret_off",
                        lambda secret: off(), methods=["POST"])
    bp.add_url_rule("/conversations/<path:identifier>/retry", "conversation_retry",
                    _retry_conversation, methods=["POST"])
    bp.add_url_rule("/conversations/<path:identifier>", "conversation", _conversation,
                    methods=["GET"])
    app.register_blueprint(bp)
