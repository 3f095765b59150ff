"""HubSpot endpoints: ``POST /webhooks/hubspot`` and the public app's OAuth install.

The webhook path verifies the signature, stores the whole batch in one transaction
(deduplicated) and answers 204; it never calls HubSpot. Without ``HUBSPOT_CLIENT_SECRET``
the route answers 503 and stores nothing: a webhook is never accepted unverified.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time

import jwt
from flask import Blueprint, Flask, g, jsonify, redirect, request

from connector.core.errors import CrmError, SignatureInvalid

from .auth import require_account
from .common import container
from .errors import ApiError

log = logging.getLogger(__name__)

bp = Blueprint("hubspot", __name__)

KIND = "hubspot"
STATE_PURPOSE = "hubspot-install"
STATE_TTL_SECONDS = 600


def _services():
    services = container().extras.get("hubspot")
    if services is None:
        raise ApiError(503, "The HubSpot connector is not configured")
    return services


def _signed_body(verify) -> bytes:
    """The raw body (413 above MAX_CONTENT_LENGTH) once ``verify`` accepted its signature
    over the URI HubSpot called; 401 otherwise."""
    body = request.get_data(cache=False)
    uri = _services().receiver.uri(request.host_url, request.path, request.query_string)
    try:
        verify(request.method, uri, body, dict(request.headers.items()))
    except SignatureInvalid as exc:
        raise ApiError(401, f"Invalid HubSpot signature: {exc}") from None
    return body


@bp.post("/webhooks/hubspot")
def receive_webhook():
    services = _services()
    receiver = services.receiver
    if receiver is None:
        raise ApiError(503, "HubSpot webhooks are disabled: HUBSPOT_CLIENT_SECRET is not set")
    body = _signed_body(receiver.verify)
    try:
        parsed = receiver.parse(body)
    except ValueError as exc:
        raise ApiError(400, f"Invalid webhook body: {exc}") from None
    from connector.service.hubspot_processing import store_inbound

    store_inbound(container(), parsed)
    return "", 204


@bp.post("/webhooks/hubspot/workflow-action")
def workflow_action():
    """HubSpot's custom workflow action "Route with connector" (one call per enrolled
    record): outputs at once, or ``hs_execution_state: BLOCK`` and a callback later."""
    from connector.service.hubspot_workflow import (
        InvalidAction,
        PortalNotConnected,
        accept,
        parse_action,
    )

    receiver = _services().receiver
    if receiver is None:
        raise ApiError(503, "HubSpot workflow actions are disabled: HUBSPOT_CLIENT_SECRET is "
                            "not set")
    body = _signed_body(receiver.verify_action)
    try:
        action = parse_action(body)
    except InvalidAction as exc:
        raise ApiError(400, f"Invalid workflow action request: {exc}") from None
    try:
        return jsonify(accept(container(), action))
    except PortalNotConnected as exc:
        raise ApiError(400, f"Invalid 'origin.portalId': {exc}") from None


def _state_secret() -> str:
    """A key of its own for the install ``state``: it travels through the browser and
    HubSpot, so it must never be accepted as an API bearer token (those use the JWT
    secret itself)."""
    secret = container().config.jwt_secret or ""
    return hmac.new(secret.encode("utf-8"), b"hubspot-install-state",
                    hashlib.sha256).hexdigest()


@bp.get("/oauth/hubspot/install")
@require_account
def oauth_install():
    services = _services()
    oauth = services.oauth() if services.oauth else None
    if oauth is None:
        raise ApiError(503, "HubSpot OAuth is not configured: set HUBSPOT_CLIENT_ID, "
                            "HUBSPOT_CLIENT_SECRET, CONNECTOR_PUBLIC_URL and "
                            "CONNECTOR_SECRET_KEY")
    state = jwt.encode({"account_id": g.account_id, "purpose": STATE_PURPOSE,
                        "nonce": secrets.token_urlsafe(8),
                        "exp": int(time.time()) + STATE_TTL_SECONDS},
                       _state_secret(), algorithm="HS256")
    return redirect(oauth.install_url(services.scopes, state), 302)


@bp.get("/oauth/hubspot/callback")
def oauth_callback():
    services = _services()
    oauth = services.oauth() if services.oauth else None
    if oauth is None or services.hub_id_for is None:
        raise ApiError(503, "HubSpot OAuth is not configured")
    code, state = request.args.get("code"), request.args.get("state")
    if request.args.get("error"):
        raise ApiError(400, "The HubSpot install was not completed: "
                            f"{request.args.get('error')[:200]}")
    if not code:
        raise ApiError(400, "Missing query parameter 'code'")
    try:
        claims = jwt.decode(state or "", _state_secret(), algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise ApiError(400, "Invalid query parameter 'state': expired or not ours") from None
    if claims.get("purpose") != STATE_PURPOSE or not claims.get("account_id"):
        raise ApiError(400, "Invalid query parameter 'state': expired or not ours")
    from connector.service.hubspot_portals import StoredTokens

    try:
        tokens = oauth.exchange_code(code)
        portal_id = services.hub_id_for(tokens.access_token)
    except CrmError as exc:
        raise ApiError(400, f"HubSpot refused the install: {exc.message}") from None
    from connector.store.sources_repo import SourceTaken

    try:  # registers the portal in the one mapping of portals/orgs to accounts
        services.portals.connect(portal_id, claims["account_id"],
                                 StoredTokens(tokens.access_token, tokens.refresh_token,
                                              tokens.expires_at))
    except SourceTaken:
        raise ApiError(409, f"HubSpot portal {portal_id} is already connected to another "
                            "account") from None
    log.info("HubSpot portal %s connected to account %s", portal_id, claims["account_id"])
    return jsonify({"portal_id": portal_id, "account_id": claims["account_id"],
                    "connected": True})


def register(app: Flask) -> None:
    """Add the HubSpot routes; say at start when webhooks cannot be received."""
    services = app.config["CONTAINER"].extras.get("hubspot")
    if services is None or services.receiver is None:
        log.warning("HUBSPOT_CLIENT_SECRET is not set: POST /webhooks/hubspot answers 503 "
                    "and accepts nothing until it is")
    app.register_blueprint(bp)
