"""Bearer JWT (HS256) with an ``account_id`` claim; ``admin: true`` may manage accounts."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import jwt
from flask import current_app, g, request

from .errors import ApiError


def issue_token(secret: str, account_id: str | None, *, admin: bool = False,
                ttl_seconds: int | None = None, subject: str | None = None) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"iat": now}
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
    secret = current_app.config["CONTAINER"].config.jwt_secret
    try:
        return jwt.decode(header[7:].strip(), secret, algorithms=["HS256"])
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "Invalid token: expired") from None
    except jwt.InvalidTokenError:
        raise ApiError(401, "Invalid token") from None


def require_account(view: Callable) -> Callable:
    """401 unless a valid token names an account; sets ``g.account_id``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        claims = _claims()
        account_id = claims.get("account_id")
        if not isinstance(account_id, str) or not account_id:
            raise ApiError(401, "Missing account context")
        g.account_id = account_id
        g.subject = claims.get("sub") or "api"
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
