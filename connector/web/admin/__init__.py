"""The admin console at ``/admin``: server-rendered pages for revenue-operations admins.

Sign-in with an email and password (``connector admin create-user``), then mappings,
routers (edit, publish, simulate), users (availability), decisions with readable
reasons, and inbox events with replay. Every page shows only the signed-in admin's account.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta

from flask import Blueprint, Flask, current_app, render_template

from .security import AdminError, LoginThrottle, check_csrf, csrf_token

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="../templates",
               static_folder="../static/admin", static_url_path="/static")


@bp.errorhandler(AdminError)
def _admin_error(exc: AdminError):
    return render_template("admin/error.html", status=exc.status, message=exc.message), \
        exc.status


@bp.app_template_global("csrf_token")
def _csrf_token() -> str:
    return csrf_token()


@bp.app_template_filter("diff_lines")
def _diff_lines(text: str) -> list[tuple[str, str]]:
    """Unified diff lines with a CSS class each: add, del, hunk or same."""
    out = []
    for line in text.splitlines():
        if line.startswith(("+++", "---", "@@")):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out


def _session_key(secret: str) -> bytes:
    """A key for session cookies only, derived so the stored-credential key is never
    used directly to sign cookies."""
    return hmac.new(secret.encode(), b"connector admin session cookies",
                    hashlib.sha256).digest()


def register(app: Flask) -> None:
    """Mount the console. Without ``CONNECTOR_SECRET_KEY`` its pages answer 503 and say
    which variable to set; the API keeps working."""
    from . import (  # noqa: F401 - views
        account,
        auth,
        conversations,
        decisions,
        events,
        insights,
        keys,
        mappings,
        notifications,
        routers,
        sla,
        users,
    )

    config = app.config["CONTAINER"].config
    if config.secret_key:
        app.secret_key = _session_key(config.secret_key)
    else:
        log.warning("CONNECTOR_SECRET_KEY is not set: the admin console is disabled")
    app.config.update(
        SESSION_COOKIE_NAME="connector_admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=(config.public_url or "").startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    app.extensions["admin_login_throttle"] = LoginThrottle()
    app.register_blueprint(bp)


@bp.before_request
def _guard():
    if not current_app.secret_key:
        raise AdminError(503, "The admin console is disabled: set CONNECTOR_SECRET_KEY "
                              "(a long random string) and restart.")
    check_csrf()
