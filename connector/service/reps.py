"""Reps through /v1: the same ``reps`` rows the routers assign to, with the seed's
presence statuses mapped onto the core's availability.

``AVAILABLE`` is the core's ``available``; ``BUSY``, ``AWAY`` and ``OFFLINE`` are all
``unavailable`` to the routers (a router never picks such a rep), and /v1 remembers which
of the three it was. A rep set ``unavailable`` through the Routera API reads ``OFFLINE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from connector.store import reps_repo as repo
from connector.store.db import Database, is_unique_violation
from connector.store.models import RepProfileRow, RepRow
from connector.store.reads import detached

from .v1_errors import V1Error

STATUSES = ("AVAILABLE", "BUSY", "AWAY", "OFFLINE")
_PROFILE_KEYS = ("status", "capacity")


@dataclass(frozen=True)
class RepView:
    rep: RepRow
    status: str
    capacity: int | None


def presence(rep: RepRow, profile: RepProfileRow | None) -> str:
    if rep.status == "available":
        return "AVAILABLE"
    if profile is not None and profile.status in STATUSES[1:]:
        return profile.status
    return "OFFLINE"


def _view(rep: RepRow, profile: RepProfileRow | None) -> RepView:
    return RepView(rep, presence(rep, profile), profile.capacity if profile else None)


def list_reps(db: Database, account_id: str, *, limit: int | None,
              after: tuple[str, str] | None) -> list[RepView]:
    with detached(db) as session:
        rows = repo.page(session, account_id, limit=limit, after=after)
        profiles = repo.profiles(session, [r.id for r in rows])
        return [_view(r, profiles.get(r.id)) for r in rows]


def _get(session, account_id: str, rep_id: str) -> RepRow:
    row = repo.get(session, account_id, rep_id)
    if row is None:
        raise V1Error(404, "Rep not found")
    return row


def get_rep(db: Database, account_id: str, rep_id: str) -> RepView:
    with detached(db) as session:
        row = _get(session, account_id, rep_id)
        return _view(row, repo.profiles(session, [row.id]).get(row.id))


def _flush(session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise V1Error(409, "A rep with this email already exists") from None


def _apply(session, row: RepRow, values: dict[str, Any]) -> RepView:
    with session.no_autoflush:
        profile = repo.profile_for_update(session, row)
    for key, value in values.items():
        if key == "status":
            profile.status = value
            row.status = "available" if value == "AVAILABLE" else "unavailable"
        elif key == "capacity":
            profile.capacity = value
        elif key == "email":
            row.email = value.lower()
        elif key == "out_of_office":
            row.out_of_office = value or []
        else:
            setattr(row, key, value)
    _flush(session)
    return _view(row, profile)


def create_rep(db: Database, account_id: str, values: dict[str, Any]) -> RepView:
    with db.session() as session:
        row = RepRow(account_id=account_id, email=values["email"].lower(),
                     out_of_office=[], crm_ids={})
        session.add(row)
        _flush(session)
        return _apply(session, row, {k: v for k, v in values.items() if k != "email"})


def update_rep(db: Database, account_id: str, rep_id: str,
               values: dict[str, Any]) -> RepView:
    with db.session() as session:
        return _apply(session, _get(session, account_id, rep_id), values)


def delete_rep(db: Database, account_id: str, rep_id: str) -> None:
    with db.session() as session:
        remove_rep(session, _get(session, account_id, rep_id))


def remove_rep(session, row: RepRow) -> None:
    """Delete a rep and take them out of every router of their account; the others keep
    their place in the rotation."""
    for router in repo.routers_for_update(session, row.account_id):
        settings = dict(router.settings or {})
        if not settings:
            continue
        settings["users"] = [u for u in settings.get("users", [])
                             if u["user_id"] != row.id]
        backup = dict(settings.get("backup_user") or {})
        if backup.get("user_id") == row.id:
            settings["backup_user"] = {"enabled": False, "user_id": None}
        router.settings = settings
    session.delete(row)
