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
from flask import Blueprint, Flask, Response, jsonify, redirect, request, session
from markupsafe import escape

from connector.core.errors import CrmError, SignatureInvalid

from .common import container
from .errors import ApiError

log = logging.getLogger(__name__)

bp = Blueprint("hubspot", __name__)

KIND = "hubspot"
STATE_PURPOSE = "hubspot-install"
STATE_TTL_SECONDS = 600
#: the browser's half of the install state (RFC 6749 section 10.12)
NONCE_COOKIE = "connector_hubspot_install"
COOKIE_PATH = "/oauth/hubspot"


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


def _nonce_hash(nonce: str) -> str:
    """What the state carries of the browser's nonce: its hash, as the state is seen by
    HubSpot and lands in URLs and logs, while the cookie itself never leaves the browser
    and us."""
    return hashlib.sha256(nonce.encode("utf-8", "surrogatepass")).hexdigest()


def _installing_account() -> str:
    """The account the install is for: a bearer token's, or else the console's signed-in
    admin's (so the browser that will approve the install can start it by opening
    ``/oauth/hubspot/install``)."""
    from .auth import bearer_account

    if request.headers.get("Authorization"):
        return bearer_account()
    admin_id = session.get("admin_id")
    if admin_id:
        from connector.service.admin_users import current_admin

        admin = current_admin(container().db, admin_id)
        if admin is not None:
            return admin.account_id
    raise ApiError(401, "Missing bearer token (or sign in to the console first)")


def _secure_cookie() -> bool:
    return request.is_secure or (container().config.public_url or "").startswith("https://")


@bp.get("/oauth/hubspot/install")
def oauth_install():
    account_id = _installing_account()
    services = _services()
    oauth = services.oauth() if services.oauth else None
    if oauth is None:
        raise ApiError(503, "HubSpot OAuth is not configured: set HUBSPOT_CLIENT_ID, "
                            "HUBSPOT_CLIENT_SECRET, CONNECTOR_PUBLIC_URL and "
                            "CONNECTOR_SECRET_KEY")
    # RFC 6749 section 10.12: the state is bound to this browser through a nonce cookie,
    # so a consent link sent to someone else cannot connect their portal to this account
    nonce = secrets.token_urlsafe(32)
    state = jwt.encode({"account_id": account_id, "purpose": STATE_PURPOSE,
                        "jti": secrets.token_urlsafe(16), "nonce": _nonce_hash(nonce),
                        "exp": int(time.time()) + STATE_TTL_SECONDS},
                       _state_secret(), algorithm="HS256")
    response = redirect(oauth.install_url(services.scopes, state), 302)
    response.set_cookie(NONCE_COOKIE, nonce, max_age=STATE_TTL_SECONDS, path=COOKIE_PATH,
                        secure=_secure_cookie(), httponly=True, samesite="Lax")
    return response


def _refusal(status: int, title: str, why: str) -> Response:
    """A page for the person in the browser: what happened, why, and that nothing was
    connected."""
    body = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
            f"<p>{escape(why)}</p><p>No HubSpot portal was connected.</p></body></html>")
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def _account_active(account_id: str) -> bool:
    """Whether the account still exists and is active: a state lives 10 minutes, and an
    account deactivated meanwhile must not connect a portal (it is locked out of the API
    and the console)."""
    from connector.store.models import AccountRow

    with container().db.read_session() as session:
        account = session.get(AccountRow, account_id)
        return account is not None and bool(account.active)


def _check_state(state: str | None) -> dict | Response:
    """The state's claims, or the page that refuses it: not ours or expired, started in
    another browser, or already used."""
    try:
        claims = jwt.decode(state or "", _state_secret(), algorithms=["HS256"],
                            options={"require": ["exp", "jti"]})
    except jwt.InvalidTokenError:
        claims = None
    if (not claims or claims.get("purpose") != STATE_PURPOSE or not claims.get("account_id")
            or not isinstance(claims.get("jti"), str) or not claims.get("nonce")):
        return _refusal(400, "This install link is not valid",
                        "Invalid query parameter 'state': it has expired (an install "
                        f"must be finished within {STATE_TTL_SECONDS // 60} minutes) or "
                        "was not issued by this connector. Start the install again.")
    nonce = request.cookies.get(NONCE_COOKIE, "")
    if not hmac.compare_digest(_nonce_hash(nonce), str(claims["nonce"])):
        return _refusal(403, "This install was started in another browser",
                        "The install link can only be finished in the browser that "
                        "started it, so that a link sent to someone else cannot connect "
                        "their portal to your account. Open /oauth/hubspot/install in this "
                        "browser (signed in to the console) and approve it here.")
    if not _account_active(str(claims["account_id"])):
        return _refusal(403, "This account is deactivated",
                        "The account this install was started for was deactivated since: "
                        "it cannot connect a HubSpot portal.")
    from connector.store.revocations import INSTALL_STATE, use_once

    if not use_once(container().db, claims["jti"], INSTALL_STATE, claims.get("exp")):
        return _refusal(400, "This install link was already used",
                        "Each install link works once. Start the install again if you "
                        "want to connect another portal.")
    return claims


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
    claims = _check_state(state)
    if isinstance(claims, Response):
        return claims
    response = _connect(services, oauth, code, claims["account_id"])
    response.delete_cookie(NONCE_COOKIE, path=COOKIE_PATH, secure=_secure_cookie(),
                           httponly=True, samesite="Lax")
    return response


def _connect(services, oauth, code: str, account_id: str) -> Response:
    from connector.service.hubspot_portals import StoredTokens

    try:
        tokens = oauth.exchange_code(code)
        portal_id = services.hub_id_for(tokens.access_token)
    except CrmError as exc:
        raise ApiError(400, f"HubSpot refused the install: {exc.message}") from None
    from connector.store.sources_repo import SourceTaken

    try:  # registers the portal in the one mapping of portals/orgs to accounts
        services.portals.connect(portal_id, account_id,
                                 StoredTokens(tokens.access_token, tokens.refresh_token,
                                              tokens.expires_at))
    except SourceTaken:
        raise ApiError(409, f"HubSpot portal {portal_id} is already connected to another "
                            "account") from None
    log.info("HubSpot portal %s connected to account %s", portal_id, account_id)
    return jsonify({"portal_id": portal_id, "account_id": account_id, "connected": True})


def register(app: Flask) -> None:
    """Add the HubSpot routes; say at start when webhooks cannot be received."""
    services = app.config["CONTAINER"].extras.get("hubspot")
    if services is None or services.receiver is None:
        log.warning("HUBSPOT_CLIENT_SECRET is not set: POST /webhooks/hubspot answers 503 "
                    "and accepts nothing until it is")
    app.register_blueprint(bp)
