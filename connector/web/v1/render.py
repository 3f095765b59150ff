"""The /v1 response bodies."""

from __future__ import annotations

from typing import Any

from connector.service.leads import LeadResult, Outcome
from connector.service.objects import iso
from connector.service.reps import RepView
from connector.store.models import ActivityRow, ApiKeyRow, ObjectRow, RepRow, RulesetRow

from .common import public


def rep(view: RepView, *, full: bool = True) -> dict[str, Any]:
    row = view.rep
    out: dict[str, Any] = {"id": public("rep", row.id), "name": row.name, "email": row.email,
                           "status": view.status}
    if full:
        out.update(capacity=view.capacity, timezone=row.timezone,
                   working_hours=row.working_hours, out_of_office=row.out_of_office or [])
    return out


def owner(row: RepRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"id": public("rep", row.id), "name": row.name, "email": row.email}


def _action(action: dict[str, Any]) -> dict[str, Any]:
    out = dict(action)
    if out.get("rep_id"):
        out["rep_id"] = public("rep", out["rep_id"])
    return out


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {**rule, "actions": [_action(a) for a in rule.get("actions", [])]}


def ruleset(row: RulesetRow) -> dict[str, Any]:
    return {"id": public("ruleset", row.id), "name": row.name, "version": row.version,
            "active": row.active, "rules": [_rule(r) for r in row.rules],
            "default_rule": _rule(row.default_rule or {"actions": []}),
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def _reason(reason: dict[str, Any]) -> dict[str, Any]:
    out = dict(reason)
    if out.get("duplicate_of"):
        out["duplicate_of"] = public("lead", out["duplicate_of"])
    return out


def lead(result: LeadResult) -> dict[str, Any]:
    row, decision = result.lead, result.decision
    sync = crm_sync(row, decision)
    out: dict[str, Any] = {
        "id": public("lead", row.id), "email": row.email, "fields": row.fields,
        "contact_id": public("contact", row.contact_id), "owner": owner(result.owner),
        "rule": None if row.rule_id is None else {
            "id": row.rule_id, "ruleset_id": public("ruleset", row.ruleset_id),
            "ruleset_version": row.ruleset_version},
        "reason": _reason(row.reason), "decision_id": row.decision_id,
        "duplicate": row.duplicate_of is not None,
        "duplicate_of": public("lead", row.duplicate_of),
        "crm_sync": sync,
        "created_at": iso(row.created_at),
    }
    if sync["status"] in ("failed", "dead"):  # as POST /dispatch/router reports it
        crm = "salesforce" if sync["crm"] == "salesforce" else "hubspot"
        out.update({f"{crm}_sync_failed": True, f"{crm}_error": sync["error"]})
    return out


def crm_sync(row: Any, decision: Any) -> dict[str, Any]:
    """The lead's CRM record and how far its sync got: finding or creating the record
    (the lead's own state) first, then writing its owner (the decision's)."""
    status, error = (decision.sync_status, decision.sync_error) if decision is not None \
        else ("none", None)
    if row.crm_sync_status in ("pending", "failed", "dead"):
        status, error = row.crm_sync_status, row.crm_sync_error
    elif status in (None, "none") and row.crm_sync_status:
        status = row.crm_sync_status
    return {"status": status or "none", "error": error, "crm": row.crm,
            "record_id": row.crm_record_id}


def test_outcome(outcome: Outcome) -> dict[str, Any]:
    rep_ = outcome.assignment.rep
    return {"rule": None if outcome.match is None else {
                "id": outcome.rule_id, "name": outcome.match.rule_name,
                "default": outcome.match.is_default},
            "owner": None if rep_ is None else {"id": public("rep", rep_.id),
                                                "name": rep_.name, "email": rep_.email},
            "assigned": rep_ is not None, "fields": outcome.fields,
            "reason": outcome.reason}


def contact(row: ObjectRow) -> dict[str, Any]:
    return {"id": public("contact", row.id), "email": row.email,
            "external_id": row.external_id, "fields": row.fields,
            "owner_id": public("rep", row.owner_rep_id), "source": row.source,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def activity(row: ActivityRow) -> dict[str, Any]:
    return {"id": public("activity", row.id), "contact_id": public("contact", row.contact_id),
            "type": row.type, "notes": row.notes, "outcome": row.outcome,
            "occurred_at": iso(row.occurred_at), "rep_id": public("rep", row.rep_id),
            "created_at": iso(row.created_at)}


def api_key(row: ApiKeyRow) -> dict[str, Any]:
    return {"id": public("key", row.id), "name": row.name, "prefix": row.prefix,
            "scopes": list(row.scopes), "created_at": iso(row.created_at),
            "last_used_at": iso(row.last_used_at) if row.last_used_at else None,
            "revoked_at": iso(row.revoked_at) if row.revoked_at else None}
