"""``/v1/rules``: rulesets, their versions, activation, and a dry run on a sample lead."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

from connector.service import leads as leads_service
from connector.service import rulesets as service
from connector.service.objects import iso

from ..common import container
from . import bp, now, render, scoped
from .common import body, internal
from .schemas import LeadSample, RulesetIn, RulesetPatch


def _stored_action(action: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in action.items()
           if v is not None or (k == "value" and action["type"] == "SET_FIELD")}
    if out.get("rep_id"):
        out["rep_id"] = internal("rep", out["rep_id"])
    return out


def _internal_ids(values: dict[str, Any]) -> dict[str, Any]:
    """Actions as stored: rep ids without their ``rep_`` prefix (bare ids, as the Routera
    API shows them, are accepted too), parameters that do not apply left out."""
    places = list(values.get("rules") or [])
    if values.get("default_rule"):
        places.append(values["default_rule"])
    for rule in places:
        rule["actions"] = [_stored_action(a) for a in rule.get("actions", [])]
    return values


@bp.post("/rules")
@scoped("rules:write")
def create_ruleset():
    values = _internal_ids(body(RulesetIn).model_dump(mode="json"))
    return jsonify(render.ruleset(service.create(container().db, g.account_id, values))), 201


@bp.get("/rules")
@scoped("rules:read")
def list_rulesets():
    rows = service.list_all(container().db, g.account_id)
    return jsonify({"data": [render.ruleset(r) for r in rows], "next_cursor": None})


@bp.get("/rules/<ruleset_id>")
@scoped("rules:read")
def get_ruleset(ruleset_id: str):
    return jsonify(render.ruleset(service.get(container().db, g.account_id,
                                              internal("ruleset", ruleset_id))))


@bp.patch("/rules/<ruleset_id>")
@scoped("rules:write")
def patch_ruleset(ruleset_id: str):
    values = _internal_ids(body(RulesetPatch).model_dump(mode="json", exclude_unset=True))
    row = service.update(container().db, g.account_id, internal("ruleset", ruleset_id), values)
    return jsonify(render.ruleset(row))


@bp.delete("/rules/<ruleset_id>")
@scoped("rules:write")
def delete_ruleset(ruleset_id: str):
    service.delete(container().db, g.account_id, internal("ruleset", ruleset_id))
    return "", 204


def _set_active(ruleset_id: str, active: bool):
    row = service.set_active(container().db, g.account_id, internal("ruleset", ruleset_id),
                             active)
    return jsonify(render.ruleset(row))


@bp.post("/rules/<ruleset_id>/activate")
@scoped("rules:write")
def activate_ruleset(ruleset_id: str):
    """The account's one active ruleset from now on (the one active before stops)."""
    return _set_active(ruleset_id, True)


@bp.post("/rules/<ruleset_id>/deactivate")
@scoped("rules:write")
def deactivate_ruleset(ruleset_id: str):
    return _set_active(ruleset_id, False)


@bp.get("/rules/<ruleset_id>/versions")
@scoped("rules:read")
def ruleset_versions(ruleset_id: str):
    rows = service.versions(container().db, g.account_id, internal("ruleset", ruleset_id))
    return jsonify({"data": [{"version": r.version, "rules": r.rules,
                              "default_rule": r.default_rule,
                              "created_at": iso(r.created_at)} for r in rows],
                    "next_cursor": None})


@bp.post("/rules/<ruleset_id>/test")
@scoped("rules:read")
def test_ruleset(ruleset_id: str):
    """The decision the ruleset would take for a sample lead now; writes nothing."""
    sample = body(LeadSample).model_dump(mode="json")
    db = container().db
    row = service.get(db, g.account_id, internal("ruleset", ruleset_id))
    outcome = leads_service.try_ruleset(db, g.account_id, row, sample, now())
    return jsonify(render.test_outcome(outcome))
