"""Rulesets through /v1: create, version on every change, activate (one active ruleset
per account), and test on a sample lead without writing anything.

Stored rules keep internal ids; ``conditions`` is a router trigger, ``actions`` a list of
``{"type": ..., ...}`` (see ``connector.core.rulesets``).
"""

from __future__ import annotations

import secrets
from typing import Any

from connector.core import rulesets as core
from connector.core.codec import trigger_from_dict
from connector.store import repositories
from connector.store import rulesets_repo as repo
from connector.store.db import Database
from connector.store.models import RulesetRow, RulesetVersionRow
from connector.store.reads import detached

from .v1_errors import V1Error


def to_domain(row: RulesetRow) -> core.Ruleset:
    def actions(items: list[dict[str, Any]]) -> tuple[core.Action, ...]:
        return tuple(core.Action(a["type"], {k: v for k, v in a.items() if k != "type"})
                     for a in items)

    return core.Ruleset(
        id=row.id, version=row.version,
        rules=tuple(core.Rule(r["id"], r.get("name", ""),
                              trigger_from_dict(r.get("conditions")),
                              actions(r.get("actions", []))) for r in row.rules),
        default_actions=actions((row.default_rule or {}).get("actions", [])))


def _check_references(session, account_id: str, rules: list[dict[str, Any]],
                      default_rule: dict[str, Any]) -> None:
    """422 naming every action whose rep or router is not in the account."""
    places = [(f"rules.{i}", r) for i, r in enumerate(rules)] + [("default_rule", default_rule)]
    bad: dict[str, str] = {}
    for where, rule in places:
        for j, action in enumerate(rule.get("actions", [])):
            if action.get("rep_id") and not repositories.reps_by_id(
                    session, account_id, [action["rep_id"]]):
                bad[f"{where}.actions.{j}.rep_id"] = "no rep with this id"
            if action.get("router_id"):
                router = repositories.get_router(session, account_id, action["router_id"])
                if router is None:
                    bad[f"{where}.actions.{j}.router_id"] = "no router with this id"
                elif router.object_type != "contact":
                    bad[f"{where}.actions.{j}.router_id"] = (
                        f"the router routes {router.object_type}s; leads need a contact "
                        "router")
    if bad:
        raise V1Error(422, "The request body was invalid or contained errors.", bad)


def _with_ids(rules: list[dict[str, Any]], previous: list[dict[str, Any]]) -> list[dict]:
    """Rules keep the id they were given (or had); new ones get a fresh ``rule_`` id."""
    known = {r["id"] for r in previous}
    out = []
    for rule in rules:
        rule = dict(rule)
        if not rule.get("id") or (rule["id"] not in known and not
                                  str(rule["id"]).startswith("rule_")):
            rule["id"] = "rule_" + secrets.token_hex(6)
        out.append(rule)
    ids = [r["id"] for r in out]
    if len(set(ids)) != len(ids):
        raise V1Error(422, "The request body was invalid or contained errors.",
                      {"rules": "two rules have the same id"})
    return out


def create(db: Database, account_id: str, values: dict[str, Any]) -> RulesetRow:
    with db.session() as session:
        rules = _with_ids(values["rules"], [])
        default_rule = values.get("default_rule") or {"actions": []}
        _check_references(session, account_id, rules, default_rule)
        row = repo.add(session, RulesetRow(account_id=account_id, name=values["name"],
                                           version=1, active=False, rules=rules,
                                           default_rule=default_rule))
        if values.get("active"):
            _activate(session, row, True)
        return row


def _get(session, account_id: str, ruleset_id: str, *, lock: bool = False) -> RulesetRow:
    row = repo.get(session, account_id, ruleset_id, lock=lock)
    if row is None:
        raise V1Error(404, "Ruleset not found")
    return row


def get(db: Database, account_id: str, ruleset_id: str) -> RulesetRow:
    with detached(db) as session:
        return _get(session, account_id, ruleset_id)


def list_all(db: Database, account_id: str) -> list[RulesetRow]:
    with detached(db) as session:
        return repo.for_account(session, account_id)


def versions(db: Database, account_id: str, ruleset_id: str) -> list[RulesetVersionRow]:
    with detached(db) as session:
        _get(session, account_id, ruleset_id)
        return repo.versions(session, ruleset_id)


def update(db: Database, account_id: str, ruleset_id: str,
           values: dict[str, Any]) -> RulesetRow:
    """A change of rules or default rule makes a new version; a rename does not."""
    with db.session() as session:
        row = _get(session, account_id, ruleset_id, lock=True)
        rules = _with_ids(values["rules"], row.rules) if "rules" in values else row.rules
        default_rule = values.get("default_rule") or row.default_rule
        _check_references(session, account_id, rules, default_rule)
        if values.get("name"):
            row.name = values["name"]
        if rules != row.rules or default_rule != row.default_rule:
            row.rules, row.default_rule = rules, default_rule
            row.version += 1
            repo.add_version(session, row)
        if values.get("active") is not None:
            _activate(session, row, values["active"])
        return row


def _activate(session, row: RulesetRow, active: bool) -> None:
    if active:
        repo.deactivate_others(session, row.account_id, row.id)
    row.active = active
    session.flush()


def set_active(db: Database, account_id: str, ruleset_id: str, active: bool) -> RulesetRow:
    with db.session() as session:
        row = _get(session, account_id, ruleset_id, lock=True)
        _activate(session, row, active)
        return row


def delete(db: Database, account_id: str, ruleset_id: str) -> None:
    with db.session() as session:
        repo.delete(session, _get(session, account_id, ruleset_id))


def active(db: Database, account_id: str) -> RulesetRow | None:
    with detached(db) as session:
        return repo.active(session, account_id)
