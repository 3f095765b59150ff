"""Management API: accounts, users (reps), routers, custom fields and decisions.

Every query is scoped to the token's account; another account's resources answer 404
exactly as missing ones do, so ids never leak across tenants.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connector.service.objects import iso
from connector.store import repositories as repo
from connector.store.db import is_unique_violation
from connector.store.models import AccountRow, FieldDefinitionRow, RepRow, RouterRow

from .auth import require_account, require_admin
from .common import container, int_arg, json_body, parse
from .errors import ApiError
from .schemas import (
    AccountIn,
    AccountPatch,
    FieldIn,
    RouterIn,
    RouterPatch,
    SettingsIn,
    UserIn,
    UserPatch,
)

bp = Blueprint("manage", __name__)


# -- accounts -------------------------------------------------------------------------

def account_json(row: AccountRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "active": row.active,
            "created_at": iso(row.created_at)}


@bp.post("/accounts")
@require_admin
def create_account():
    data = parse(AccountIn, json_body())
    with container().db.session() as session:
        row = AccountRow(name=data.name, active=data.active)
        session.add(row)
        session.flush()
        return jsonify(account_json(row)), 201


@bp.get("/accounts")
@require_admin
def list_accounts():
    with container().db.session() as session:
        rows = session.scalars(select(AccountRow).order_by(AccountRow.created_at))
        return jsonify({"results": [account_json(r) for r in rows]})


@bp.patch("/accounts/<account_id>")
@require_admin
def patch_account(account_id: str):
    data = parse(AccountPatch, json_body())
    with container().db.session() as session:
        row = session.get(AccountRow, account_id)
        if row is None:
            raise ApiError(404, "Account not found")
        for key, value in data.model_dump(exclude_none=True).items():
            setattr(row, key, value)
        return jsonify(account_json(row))


@bp.get("/account")
@require_account(allow_inactive=True)
def my_account():
    with container().db.session() as session:
        row = session.get(AccountRow, g.account_id)
        if row is None:
            raise ApiError(404, "Account not found")
        return jsonify(account_json(row))


# -- users ----------------------------------------------------------------------------

def user_json(row: RepRow) -> dict[str, Any]:
    return {"id": row.id, "email": row.email, "name": row.name, "status": row.status,
            "timezone": row.timezone, "working_hours": row.working_hours,
            "out_of_office": row.out_of_office, "crm_ids": row.crm_ids,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def _user_values(data: UserIn | UserPatch) -> dict[str, Any]:
    values = data.model_dump(exclude_unset=True, mode="json")
    if "email" in values and values["email"]:
        values["email"] = values["email"].lower()
    return values


def _get_user(session, user_id: str) -> RepRow:
    row = session.get(RepRow, user_id)
    if row is None or row.account_id != g.account_id:
        raise ApiError(404, "User not found")
    return row


def insert_user(session, account_id: str, data: UserIn) -> RepRow:
    """A new rep of ``account_id`` (the API's ``POST /users`` and the console's form);
    409 when the email is taken."""
    values = _user_values(data)
    values.setdefault("out_of_office", [])
    values.setdefault("crm_ids", {})
    row = RepRow(account_id=account_id, **values)
    session.add(row)
    flush_unique(session, "A user with this email already exists")
    return row


def flush_unique(session, conflict: str) -> None:
    """Flush; a unique constraint broken by it is a 409 saying ``conflict``."""
    try:
        session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise ApiError(409, conflict) from None


@bp.post("/users")
@require_account
def create_user():
    data = parse(UserIn, json_body())
    with container().db.session() as session:
        return jsonify(user_json(insert_user(session, g.account_id, data))), 201


@bp.get("/users")
@require_account
def list_users():
    with container().db.session() as session:
        rows = session.scalars(select(RepRow).where(RepRow.account_id == g.account_id)
                               .order_by(RepRow.email))
        return jsonify({"results": [user_json(r) for r in rows]})


@bp.get("/users/<user_id>")
@require_account
def get_user(user_id: str):
    with container().db.session() as session:
        return jsonify(user_json(_get_user(session, user_id)))


@bp.patch("/users/<user_id>")
@require_account
def patch_user(user_id: str):
    data = parse(UserPatch, json_body())
    with container().db.session() as session:
        row = _get_user(session, user_id)
        for key, value in _user_values(data).items():
            if value is None and key in ("email", "status", "timezone", "name"):
                raise ApiError(400, f"Invalid field '{key}': may not be null")
            setattr(row, key, value if value is not None else
                    ([] if key == "out_of_office" else {} if key == "crm_ids" else None))
        flush_unique(session, "A user with this email already exists")
        return jsonify(user_json(row))


def remove_user(session, account_id: str, row: RepRow) -> None:
    """Deleting a rep takes them out of every router; others keep their rotation."""
    from connector.service.reps import remove_rep

    if row.account_id != account_id:
        raise ApiError(404, "User not found")
    remove_rep(session, row)


@bp.delete("/users/<user_id>")
@require_account
def delete_user(user_id: str):
    with container().db.session() as session:
        remove_user(session, g.account_id, _get_user(session, user_id))
    return "", 204


# -- routers --------------------------------------------------------------------------

def router_json(row: RouterRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "object_type": row.object_type,
            "published": row.published, "settings": row.settings,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def _settings_for_store(session, settings: SettingsIn,
                        previous: dict[str, Any] | None) -> dict[str, Any]:
    """Validate references and keep each member's rotation position across edits."""
    data = settings.model_dump(mode="json")
    for key in ("account_match", "territory", "fairness"):  # routing depth, when set
        if data.get(key) is None:
            data.pop(key, None)
    ids = [u["user_id"] for u in data["users"]]
    if len(set(ids)) != len(ids):
        raise ApiError(400, "Invalid field 'settings.users': a user is listed twice")
    backup = data["backup_user"]
    wanted = set(ids) | ({backup["user_id"]} if backup.get("user_id") else set())
    found = {r.id for r in session.scalars(select(RepRow).where(
        RepRow.account_id == g.account_id, RepRow.id.in_(wanted)))} if wanted else set()
    for index, user_id in enumerate(ids):
        if user_id not in found:
            raise ApiError(400, f"Invalid field 'settings.users.{index}.user_id': no user "
                                f"with id '{user_id}'")
    if backup.get("user_id") and backup["user_id"] not in found:
        raise ApiError(400, "Invalid field 'settings.backup_user.user_id': no user with id "
                            f"'{backup['user_id']}'")
    if backup.get("enabled") and not backup.get("user_id"):
        raise ApiError(400, "Invalid field 'settings.backup_user.user_id': required when "
                            "the backup user is enabled")
    old = {u["user_id"]: u["position"] for u in (previous or {}).get("users", [])}
    next_position = max(old.values(), default=-1) + 1
    for member in data["users"]:
        if member["user_id"] in old:
            member["position"] = old[member["user_id"]]
        else:
            member["position"] = next_position
            next_position += 1
    return data


def _get_router(session, router_id: str) -> RouterRow:
    row = repo.get_router(session, g.account_id, router_id)
    if row is None:
        raise ApiError(404, "Router not found")
    return row


def insert_router(session, account_id: str, data: RouterIn) -> RouterRow:
    """A new router of ``account_id`` (``POST /routers`` and the console's form)."""
    settings = _settings_for_store(session, data.settings, None) if data.settings else None
    row = RouterRow(account_id=account_id, name=data.name, object_type=data.object_type,
                    published=data.published, settings=settings, current_weights={})
    session.add(row)
    session.flush()
    return row


@bp.post("/routers")
@require_account
def create_router():
    data = parse(RouterIn, json_body())
    with container().db.session() as session:
        return jsonify(router_json(insert_router(session, g.account_id, data))), 201


@bp.get("/routers")
@require_account
def list_routers():
    with container().db.session() as session:
        rows = session.scalars(select(RouterRow).where(RouterRow.account_id == g.account_id)
                               .order_by(RouterRow.created_at))
        return jsonify({"results": [router_json(r) for r in rows]})


@bp.get("/routers/<router_id>")
@require_account
def get_router(router_id: str):
    with container().db.session() as session:
        return jsonify(router_json(_get_router(session, router_id)))


@bp.patch("/routers/<router_id>")
@require_account
def patch_router(router_id: str):
    data = parse(RouterPatch, json_body())
    with container().db.session() as session:
        row = repo.get_router(session, g.account_id, router_id, lock=True)
        if row is None:
            raise ApiError(404, "Router not found")
        if data.name is not None:
            row.name = data.name
        if data.published is not None:
            row.published = data.published
        if "settings" in data.model_fields_set:
            row.settings = (_settings_for_store(session, data.settings, row.settings)
                            if data.settings else None)
        row.updated_at = datetime.now(UTC)
        return jsonify(router_json(row))


def _set_published(router_id: str, published: bool):
    with container().db.session() as session:
        row = _get_router(session, router_id)
        row.published = published
        row.updated_at = datetime.now(UTC)
        return jsonify(router_json(row))


@bp.post("/routers/<router_id>/publish")
@require_account
def publish_router(router_id: str):
    return _set_published(router_id, True)


@bp.post("/routers/<router_id>/unpublish")
@require_account
def unpublish_router(router_id: str):
    return _set_published(router_id, False)


@bp.delete("/routers/<router_id>")
@require_account
def delete_router(router_id: str):
    with container().db.session() as session:
        session.delete(_get_router(session, router_id))
    return "", 204


# -- custom fields --------------------------------------------------------------------

@bp.post("/fields")
@require_account
def create_field():
    data = parse(FieldIn, json_body())
    from connector.service.objects import SYSTEM_FIELDS, is_reserved_field

    if is_reserved_field(data.internal_name):
        raise ApiError(400, f"Invalid field 'internal_name': '{data.internal_name}' is a "
                            "system field and cannot be defined")
    if data.internal_name in SYSTEM_FIELDS[data.object_type] or \
            data.internal_name == "external_id":
        raise ApiError(409, f"Field '{data.internal_name}' already exists")
    if data.type == "enum" and not data.options:
        raise ApiError(400, "Invalid field 'options': an enum field needs options")
    with container().db.session() as session:
        row = FieldDefinitionRow(account_id=g.account_id, **data.model_dump())
        session.add(row)
        flush_unique(session, f"Field '{data.internal_name}' already exists")
        return jsonify({"id": row.id, **data.model_dump()}), 201


@bp.get("/fields")
@require_account
def list_fields():
    with container().db.session() as session:
        rows = session.scalars(select(FieldDefinitionRow).where(
            FieldDefinitionRow.account_id == g.account_id))
        return jsonify({"results": [
            {"id": r.id, "object_type": r.object_type, "internal_name": r.internal_name,
             "label": r.label, "type": r.type, "options": r.options} for r in rows]})


# -- decisions ------------------------------------------------------------------------

@bp.get("/decisions")
@require_account
def list_decisions():
    limit = int_arg("limit", 100, high=1000)
    with container().db.session() as session:
        rows = repo.decisions_for(session, g.account_id,
                                  object_id=request.args.get("object_id"),
                                  rep_id=request.args.get("user_id"),
                                  router_id=request.args.get("router_id"), limit=limit)
        return jsonify({"results": [repo.decision_as_dict(r) for r in rows]})
