"""Admin users of the console: created from the command line, verified at sign-in.

Passwords are stored only as werkzeug scrypt hashes. A sign-in for an unknown email still
checks a hash, so the answer takes as long as for a known one and does not reveal which
emails exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from connector.store import admin_repo
from connector.store.db import Database
from connector.store.models import AccountRow, AdminUserRow

MIN_PASSWORD_LENGTH = 10
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AdminUserError(ValueError):
    """A user that cannot be created; the message says why."""


class AccountInactive(Exception):
    """The credentials are right but the admin's account is deactivated: the console is
    closed to it, as the API is (only said after the password matched, so it reveals
    nothing to someone guessing)."""

    MESSAGE = ("This account is deactivated, so its console is closed. Ask the operator "
               "to reactivate it.")


def _account_active(session, account_id: str) -> bool:
    account = session.get(AccountRow, account_id)
    return account is not None and bool(account.active)


@dataclass(frozen=True)
class SignedIn:
    admin_id: str
    account_id: str
    email: str


def create_admin(db: Database, email: str, account_id: str, password: str) -> str:
    """Create an admin of ``account_id``; returns the new admin's id."""
    email = email.strip().lower()
    if "@" not in email or len(email) < 3:
        raise AdminUserError(f"'{email}' is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminUserError(f"the password must have at least {MIN_PASSWORD_LENGTH} "
                             "characters")
    try:
        with db.session() as session:
            if session.get(AccountRow, account_id) is None:
                raise AdminUserError(f"no account with id '{account_id}'")
            row = AdminUserRow(account_id=account_id, email=email,
                               password_hash=generate_password_hash(password, method="scrypt"))
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        raise AdminUserError(f"an admin with email '{email}' already exists") from None


def authenticate(db: Database, email: str, password: str) -> SignedIn | None:
    """The admin these credentials belong to, or None (unknown, inactive or wrong);
    raises AccountInactive when they are right but the admin's account is deactivated."""
    with db.session() as session:
        row = admin_repo.admin_by_email(session, email)
        if row is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if not check_password_hash(row.password_hash, password) or not row.active:
            return None
        if not _account_active(session, row.account_id):
            raise AccountInactive(AccountInactive.MESSAGE)
        row.last_login_at = datetime.now(UTC)
        return SignedIn(row.id, row.account_id, row.email)


def current_admin(db: Database, admin_id: str) -> SignedIn | None:
    """The signed-in admin, re-read on each request so a deactivated admin, or an admin of
    a deactivated account, is out at once."""
    with db.read_session() as session:
        row = admin_repo.admin_by_id(session, admin_id)
        if row is None or not row.active or not _account_active(session, row.account_id):
            return None
        return SignedIn(row.id, row.account_id, row.email)
