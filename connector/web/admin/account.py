"""The account page: the signed-in admin's account (name, id, state), the HubSpot portals
and Salesforce orgs connected to it, and bearer tokens for its API, made here so nobody
needs a shell on the server to call the API."""

from __future__ import annotations

from flask import g, render_template, request

from connector.store import sources_repo
from connector.store.models import AccountRow

from ..auth import issue_token
from ..common import container
from . import bp
from .security import AdminError, login_required

#: lifetimes offered for a new token (label, seconds)
TOKEN_LIFETIMES = {"1d": ("1 day", 86_400), "30d": ("30 days", 30 * 86_400),
                   "365d": ("1 year", 365 * 86_400)}
SOURCE_LABELS = {"hubspot": "HubSpot portal", "salesforce": "Salesforce org"}


def _page(*, token: str | None = None, lifetime: str | None = None, status: int = 200):
    with container().db.read_session() as session:
        account = session.get(AccountRow, g.account_id)
        if account is None:
            raise AdminError(404, "Your account no longer exists.")
        sources = [(SOURCE_LABELS.get(source, source), key)
                   for source, key in sources_repo.keys_for_account(session, g.account_id)]
        session.expunge(account)
    return render_template("admin/account.html", account=account, sources=sources,
                           lifetimes=TOKEN_LIFETIMES, token=token, lifetime=lifetime), status


@bp.get("/account")
@login_required
def account_page():
    return _page()


@bp.post("/account/tokens")
@login_required
def account_token():
    """A bearer JWT of this account, shown once; it is not stored, so it cannot be shown
    again."""
    choice = request.form.get("lifetime", "")
    if choice not in TOKEN_LIFETIMES:
        raise AdminError(400, f"Invalid field 'lifetime': one of "
                              f"{', '.join(TOKEN_LIFETIMES)}, got '{choice[:20]}'")
    secret = container().config.jwt_secret
    if not secret:
        raise AdminError(503, "CONNECTOR_JWT_SECRET is not set: no token can be signed.")
    token = issue_token(secret, g.account_id, ttl_seconds=TOKEN_LIFETIMES[choice][1],
                        subject=g.subject)
    return _page(token=token, lifetime=TOKEN_LIFETIMES[choice][0])
