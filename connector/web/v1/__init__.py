"""The Routeswit-compatible API at ``/v1`` (seed 001): API keys with scopes, the seed's
error model, reps, rulesets, leads, contacts, activities and routing insights, on the
same store, routers, decisions and audit as the Routera API at the root.

Every request needs ``Authorization: Bearer <API key>``; each endpoint names the scope it
needs. Errors are ``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps

from flask import Blueprint, Flask, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from connector.service.api_keys import Caller, RateLimiter, authenticate, looks_like_key
from connector.service.v1_errors import V1Error
from connector.web.errors import ApiError

log = logging.getLogger(__name__)

bp = Blueprint("v1", __name__, url_prefix="/v1")
PUBLIC_ENDPOINTS = {"v1.openapi_json"}
#: the scope each endpoint needs, by endpoint name (filled by ``scoped``)
SCOPE_OF: dict[str, str] = {}
_MESSAGES = {401: "Invalid or missing API key.", 404: "The requested resource does not exist.",
             405: "Method not allowed.", 413: "Request body too large.",
             500: "Internal server error. Our team has been notified."}


def error_body(status: int, message: str, fields: dict[str, str] | None = None):
    error = V1Error(status, message, fields)
    response = jsonify({"error": {"code": error.code, "message": message,
                                  "fields": error.fields}})
    response.status_code = status
    return response


@bp.errorhandler(V1Error)
def _v1_error(exc: V1Error):
    response = error_body(exc.status, exc.message, exc.fields)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


@bp.errorhandler(ApiError)
def _request_refused(exc: ApiError):
    """The app-wide request limits (connector/web/limits.py) in this API's error model: a
    value no field can hold is a 422 naming the field."""
    if exc.status != 400:
        return error_body(exc.status, exc.message)
    found = re.match(r"Invalid (?:field|query parameter) '([^']*)': (.*)", exc.message, re.S)
    fields = {found.group(1): found.group(2)} if found else {}
    return error_body(422, exc.message, fields)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    status = exc.code or 500
    if status == 405:
        response = error_body(405, _MESSAGES[405])
        response.headers["Allow"] = ", ".join(exc.valid_methods or [])
        return response
    return error_body(status, _MESSAGES.get(status, exc.description or "Error"))


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_body(500, _MESSAGES[500])


def now() -> datetime:
    """The request's time; tests replace ``extras["now"]``."""
    return current_app.config["CONTAINER"].extras.get("now", lambda: datetime.now(UTC))()


def caller() -> Caller:
    return g.v1_caller


def limiter() -> RateLimiter:
    extras = current_app.config["CONTAINER"].extras
    if "v1_rate_limiter" not in extras:
        extras["v1_rate_limiter"] = RateLimiter(
            current_app.config["CONTAINER"].config.v1_rate_limit_per_minute, 60.0)
    return extras["v1_rate_limiter"]


def require_https() -> None:
    """Refuse plain HTTP when ``CONNECTOR_REQUIRE_HTTPS`` is set. ``request.scheme`` is
    what the server saw, or what a trusted proxy said (X-Forwarded-Proto via ProxyFix)."""
    if current_app.config["CONTAINER"].config.require_https and request.scheme != "https":
        raise V1Error(403, "HTTPS is required: plain HTTP requests are refused")


def key_caller(token: str, *, allow_inactive: bool = False) -> Caller:
    """The caller of a valid, unrevoked key of an active account, rate limited."""
    found = authenticate(current_app.config["CONTAINER"].db, token, now())
    if found is None:
        raise V1Error(401, _MESSAGES[401])
    if not found.account_active and not allow_inactive:
        raise V1Error(403, "The account is not active")
    limiter().check(found.key_id)
    return found


@bp.before_request
def _authenticate():
    require_https()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else ""
    if not looks_like_key(token):
        raise V1Error(401, _MESSAGES[401])
    g.v1_caller = key_caller(token)
    g.account_id = g.v1_caller.account_id
    g.subject = f"api-key:{g.v1_caller.prefix}"


def scoped(scope: str) -> Callable:
    """The view needs ``scope`` (403 ``FORBIDDEN`` for a key without it)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not caller().allows(scope):
                raise V1Error(403, f"This API key lacks the scope '{scope}'")
            return view(*args, **kwargs)

        SCOPE_OF[f"v1.{view.__name__}"] = scope
        return wrapper

    return decorate


@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def _unknown(anything: str):
    raise V1Error(404, _MESSAGES[404])


def register(app: Flask) -> None:
    from . import (  # noqa: F401 - views
        calendars,
        contacts,
        insights,
        leads,
        notifications,
        openapi,
        reps,
        routing,
        rules,
        sla,
    )

    app.register_blueprint(bp)
