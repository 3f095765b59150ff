"""Bearer JWT (HS256) with an ``account_id`` claim; ``admin: true`` may manage accounts.

Every token carries a ``jti``, so one token can be revoked (``connector revoke-token``)
without rotating ``CONNECTOR_JWT_SECRET`` and ending all the others.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import jwt
from flask import abort, current_app, g, request

from connector.service.api_keys import looks_like_key

from .errors import ApiError, error_response


def issue_token(secret: str, account_id: str | None, *, admin: bool = False,
                ttl_seconds: int | None = None, subject: str | None = None) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"iat": now, "jti": secrets.token_urlsafe(16)}
    if account_id:
        claims["account_id"] = account_id
    if admin:
        claims["admin"] = True
    if subject:
        claims["sub"] = subject
    if ttl_seconds:
        claims["exp"] = now + ttl_seconds
    return jwt.encode(claims, secret, algorithm="HS256")


def _claims() -> dict[str, Any]:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not header[7:].strip():
        raise ApiError(401, "Missing bearer token")
    token = header[7:].strip()
    if looks_like_key(token):
        return _key_claims(token)
    container = current_app.config["CONTAINER"]
    try:
        claims = jwt.decode(token, container.config.jwt_secret, algorithms=["HS256"])
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "Invalid token: expired") from None
    except jwt.InvalidTokenError:
        raise ApiError(401, "Invalid token") from None
    jti = claims.get("jti")
    if jti is not None and (not isinstance(jti, str) or jti in _revoked(container)):
        raise ApiError(401, "Invalid token: revoked")
    return claims


def _revoked(container: Any):
    """This app's view of the revoked token ids (``connector.store.revocations``)."""
    revoked = current_app.extensions.get("revoked_api_tokens")
    if revoked is None:
        from connector.store.revocations import RevokedApiTokens

        revoked = current_app.extensions.setdefault("revoked_api_tokens",
                                                     RevokedApiTokens(container.db))
    return revoked


def _key_claims(token: str) -> dict[str, Any]:
    """An API key stands for its account here too; only a key with scope ``*`` may use
    this API, whose endpoints do not map onto the /v1 scopes."""
    from connector.service.v1_errors import V1Error
    from connector.web.v1 import key_caller, require_https

    try:
        require_https()
        caller = key_caller(token, allow_inactive=True)  # the views judge the account
    except V1Error as exc:
        if exc.status == 429:
            response = error_response(429, exc.message)
            response.headers["Retry-After"] = str(exc.retry_after)
            abort(response)
        raise ApiError(exc.status, "Invalid API key" if exc.status == 401 else exc.message) \
            from None
    if not caller.allows("*"):
        raise ApiError(403, "This API key's scopes do not include '*', which this API needs")
    return {"account_id": caller.account_id, "sub": f"api-key:{caller.prefix}"}


def token_account_id(claims: dict[str, Any]) -> str:
    """The token's ``account_id`` claim; 401 when it has none."""
    account_id = claims.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        raise ApiError(401, "Missing account context")
    return account_id


def check_account(account_id: str, *, allow_inactive: bool = False) -> None:
    """401 when the token's account does not exist (a token that outlived its account
    must not reach the store, where it would surface as a constraint error), 403 when
    the account is deactivated."""
    from connector.store.models import AccountRow

    with current_app.config["CONTAINER"].db.read_session() as session:
        account = session.get(AccountRow, account_id)
        active = account.active if account is not None else False
    if account is None:
        raise ApiError(401, "Missing account context")
    if not active and not allow_inactive:
        raise ApiError(403, "Account is not active")


def _bind(claims: dict[str, Any], account_id: str) -> None:
    g.account_id = account_id
    g.subject = claims.get("sub") or "api"


def bearer_account(*, allow_inactive: bool = False) -> str:
    """The account the request's bearer token acts for, checked as ``require_account``
    checks it (401/403), bound to ``g``; for views that also take another credential."""
    claims = _claims()
    account_id = token_account_id(claims)
    check_account(account_id, allow_inactive=allow_inactive)
    _bind(claims, account_id)
    return account_id


def require_account(view: Callable | None = None, *, allow_inactive: bool = False):
    """401 unless a valid token names an existing account, 403 when that account is not
    active; sets ``g.account_id``. ``allow_inactive`` lets a deactivated account still
    read what the view serves (its own account, so a client can see why)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            bearer_account(allow_inactive=allow_inactive)
            return view(*args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def require_account_claim(view: Callable) -> Callable:
    """Like ``require_account`` but without looking the account up: for
    ``POST /dispatch/router``, whose seed answers a missing or inactive account with the
    200 outcomes "Account not found" and "Account is not active"."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        claims = _claims()
        _bind(claims, token_account_id(claims))
        return view(*args, **kwargs)

    return wrapper


def require_admin(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        claims = _claims()
        if claims.get("admin") is not True:
            raise ApiError(403, "This token may not manage accounts")
        return view(*args, **kwargs)

    return wrapper
