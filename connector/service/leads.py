"""``POST /v1/leads``: store the lead, match or create its contact, run the account's
active ruleset and assign, the same way for a dry run (``POST /v1/rules/{id}/test``).

Order of work, so nothing accepted is lost: the lead (with its Idempotency-Key and
request hash) and its contact are committed first; the assignment follows, through a
router (``service.dispatch``, its lock, counters, decision and write-back) or directly to
a rep (a decision row of its own, written back through the same ``OwnerSync``); the lead
then records its owner, rule and decision.

A matching rule whose assignment cannot assign (rep unavailable or at capacity, router
with nobody available, contact without owner) falls back to the default rule's
assignment; the reason says so. A lead whose email was seen within the duplicate window
is stored as a duplicate of the first one and keeps its owner, without routing again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from connector.core import rulesets as core
from connector.core.availability import unavailability
from connector.core.model import Rep
from connector.core.outcomes import Outcome as RouterOutcome
from connector.store import leads_repo as repo
from connector.store import repositories, reps_repo, rulesets_repo
from connector.store.db import Database, is_unique_violation
from connector.store.models import DecisionRow, LeadRow, ObjectRow, RulesetRow, new_id
from connector.store.reads import detached

from . import dispatch as dispatch_service
from . import sla
from .rulesets import to_domain
from .simulate import simulate
from .v1_errors import V1Error

#: the reason of a lead stored but not routed yet (routing failed midway): a resend with
#: its Idempotency-Key routes it then
NOT_ROUTED = {"message": "Not routed yet", "pending": True}
#: the CRMs a rule's direct assignment is written back to (through ``OwnerSync``)
WRITTEN_BACK = ("hubspot",)
TOP_LEVEL = ("email", "first_name", "last_name", "phone", "company", "job_title", "country",
             "source", "external_id")


@dataclass
class Assignment:
    rep: Rep | None
    message: str
    action: str | None = None
    router_id: str | None = None
    decision_id: str | None = None
    sync_error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What a ruleset decided for a lead."""

    match: core.RuleMatch | None
    assignment: Assignment
    fields: dict[str, Any]
    reason: dict[str, Any]
    ruleset_id: str | None = None
    ruleset_version: int | None = None

    @property
    def rule_id(self) -> str | None:
        return self.match.rule_id if self.match else None


@dataclass
class LeadResult:
    lead: LeadRow
    owner: Any
    decision: DecisionRow | None
    created: bool


def flat_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The lead's fields as a rule sees them: custom ``fields`` and the top-level ones."""
    out = dict(values.get("fields") or {})
    out.update({k: values[k] for k in TOP_LEVEL if values.get(k) is not None})
    return out


def request_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


# -- deciding ---------------------------------------------------------------------------

def _rep_assignment(db: Database, account_id: str, rep_id: str, now: datetime, *,
                    action: str, check: bool) -> Assignment:
    with detached(db) as session:
        rep = repositories.reps_by_id(session, account_id, [rep_id]).get(rep_id)
        if rep is None:
            return Assignment(None, "The rep no longer exists", action)
        if check:
            skip = unavailability(rep, now)
            if skip is not None:
                return Assignment(None, f"{rep.email} is not available ({skip.value})",
                                  action, detail={"rep_id": rep_id, "skipped": skip.value})
            profile = reps_repo.profiles(session, [rep_id]).get(rep_id)
            if profile is not None and profile.capacity is not None:
                start = now.astimezone(UTC).replace(hour=0, minute=0, second=0,
                                                    microsecond=0)
                taken = reps_repo.leads_assigned_since(session, account_id, rep_id, start)
                if taken >= profile.capacity:
                    return Assignment(None, f"{rep.email} has reached their routing "
                                            f"capacity ({profile.capacity} leads a day)",
                                      action, detail={"rep_id": rep_id,
                                                      "skipped": "at_capacity"})
    return Assignment(rep, f"Assigned to {rep.email}", action)


def _router_assignment(db: Database, account_id: str, router_id: str,
                       contact: ObjectRow | None, fields: dict[str, Any], now: datetime, *,
                       dry: bool, sync: Any) -> Assignment:
    if dry or contact is None:
        decision = simulate(db, account_id, router_id, fields,
                            owner_rep_id=contact.owner_rep_id if contact else None,
                            as_published=False, now=now)
        rep = decision.rep if decision.assigned else None
        return Assignment(rep, decision.outcome.message, core.ASSIGN_ROUTER, router_id,
                          detail=decision.explain())
    result = dispatch_service.dispatch(db, account_id, router_id, contact.id, now=now,
                                       sync=sync)
    decision = result.decision
    return Assignment(decision.rep if decision.assigned else None, decision.outcome.message,
                      core.ASSIGN_ROUTER, router_id, decision_id=result.decision_id or None,
                      sync_error=result.sync_error, detail=decision.explain())


def _assign(db: Database, account_id: str, action: core.Action, contact: ObjectRow | None,
            fields: dict[str, Any], now: datetime, *, dry: bool, sync: Any) -> Assignment:
    if action.type == core.ASSIGN_REP:
        return _rep_assignment(db, account_id, str(action.params["rep_id"]), now,
                               action=action.type, check=True)
    if action.type == core.ASSIGN_CONTACT_OWNER:
        if contact is None or not contact.owner_rep_id:
            return Assignment(None, "The contact has no owner", action.type)
        return _rep_assignment(db, account_id, contact.owner_rep_id, now,
                               action=action.type, check=False)
    return _router_assignment(db, account_id, str(action.params["router_id"]), contact,
                              fields, now, dry=dry, sync=sync)


def decide(db: Database, account_id: str, ruleset: RulesetRow | None,
           fields: dict[str, Any], contact: ObjectRow | None, now: datetime, *,
           dry: bool, sync: Any = None) -> Outcome:
    """Run ``ruleset`` on a lead's ``fields``. ``dry`` writes nothing (routers are
    simulated); otherwise a router assignment is a real dispatch on ``contact``."""
    if ruleset is None:
        assignment = Assignment(None, "No active ruleset")
        return Outcome(None, assignment, fields, {"message": assignment.message})
    domain = to_domain(ruleset)
    match = core.first_match(domain, fields)
    fields = core.apply_set_fields(match.actions, fields)
    assignment = Assignment(None, "The rule assigns nobody")
    tried: list[dict[str, Any]] = []
    candidates = [match.assignment]
    if not match.is_default:
        candidates.append(next((a for a in domain.default_actions
                                if a.type in core.ASSIGNMENTS), None))
    for action in candidates:
        if action is None:
            continue
        assignment = _assign(db, account_id, action, contact, fields, now, dry=dry, sync=sync)
        tried.append({"action": action.type, "message": assignment.message,
                      **({"router_id": assignment.router_id} if assignment.router_id else {})})
        if assignment.rep is not None:
            break
    notifications = [{"to": a.params.get("to", "OWNER"), "message": a.params.get("message", "")}
                     for a in match.actions if a.type == core.NOTIFY]
    reason = {"message": assignment.message, **match.reason(), "assignments_tried": tried,
              "fell_back_to_default": len(tried) > 1 and assignment.rep is not None,
              "notifications": notifications,
              "set_fields": {str(a.params["field"]): a.params.get("value")
                             for a in match.actions if a.type == core.SET_FIELD}}
    if assignment.detail:
        reason["assignment"] = assignment.detail
    return Outcome(match, assignment, fields, reason, ruleset.id, ruleset.version)


# -- ingesting --------------------------------------------------------------------------

def _contact_for(session, account_id: str, values: dict[str, Any],
                 fields: dict[str, Any]) -> ObjectRow:
    """The lead's contact: matched by external id or email, else a new one. A contact
    mirrored from a CRM is matched, never changed (the CRM is its truth)."""
    contact = repo.contact_by(session, account_id, email=values.get("email"),
                              external_id=values.get("external_id"))
    if contact is None:
        contact = ObjectRow(account_id=account_id, object_type=repo.CONTACT, source="api",
                            email=values.get("email"), external_id=values.get("external_id"),
                            fields=fields)
        repo.add(session, contact)
    elif contact.source == "api":
        contact.fields = {**contact.fields, **fields}
    return contact


def _replay(session, account_id: str, key: str, digest: str) -> LeadRow | None:
    lead = repo.lead_by_idempotency_key(session, account_id, key)
    if lead is not None and lead.request_hash != digest:
        raise V1Error(409, "This Idempotency-Key was already used with a different request")
    return lead


def _store(db: Database, account_id: str, values: dict[str, Any], key: str | None,
           now: datetime, window: timedelta) -> tuple[LeadRow, ObjectRow | None, bool]:
    digest = request_hash(values)
    fields = flat_fields(values)
    try:
        with db.session() as session:
            if key is not None:
                earlier = _replay(session, account_id, key, digest)
                if earlier is not None:
                    return earlier, None, False
            lead = LeadRow(id=new_id(), account_id=account_id, email=values.get("email"),
                           fields=fields, idempotency_key=key, request_hash=digest,
                           created_at=now, reason=dict(NOT_ROUTED))
            first = repo.recent_lead_with_email(session, account_id, lead.email, now - window) \
                if lead.email else None
            if first is not None:
                lead.duplicate_of, lead.contact_id = first.id, first.contact_id
                lead.owner_rep_id, lead.decision_id = first.owner_rep_id, first.decision_id
                lead.ruleset_id, lead.ruleset_version = first.ruleset_id, first.ruleset_version
                lead.rule_id = first.rule_id
                lead.reason = {"message": f"Duplicate of lead {first.id}, received within "
                                          f"{int(window.total_seconds())} s",
                               "duplicate_of": first.id}
                repo.add(session, lead)
                return lead, None, True
            contact = _contact_for(session, account_id, values, fields)
            lead.contact_id = contact.id
            repo.add(session, lead)
            return lead, contact, True
    except IntegrityError as exc:
        if not is_unique_violation(exc) or key is None:
            raise
    with detached(db) as session:  # the same key, sent twice at once
        earlier = _replay(session, account_id, key, digest)
        if earlier is None:
            raise V1Error(409, "A request with this Idempotency-Key is in progress")
        return earlier, None, False


def _record(db: Database, account_id: str, lead_id: str, contact: ObjectRow,
            outcome: Outcome, now: datetime) -> DecisionRow | None:
    """In one transaction: the lead's owner, rule and reason; for a rule that assigned a
    rep itself (not through a router, which stored its own), the decision and the
    contact's new owner. Returns that decision, whose write-back is still to do."""
    rep = outcome.assignment.rep
    direct = rep is not None and outcome.assignment.action != core.ASSIGN_ROUTER
    decision = None
    with db.session() as session:
        if direct:
            decision = DecisionRow(
                id=new_id(), account_id=account_id, object_id=contact.id,
                outcome="assigned", message=RouterOutcome.ASSIGNED.message, assigned=True,
                rep_id=rep.id, rep_email=rep.email, field_name="contact_owner",
                reason=outcome.reason, created_at=now,
                sync_status="pending" if contact.source in WRITTEN_BACK else "none")
            repo.add(session, decision)
            stored_contact = repo.contact(session, account_id, contact.id)
            if stored_contact is not None:
                stored_contact.owner_rep_id = rep.id
                stored_contact.owner_assigned_at = stored_contact.updated_at = now
        lead = repo.lead(session, account_id, lead_id)
        lead.owner_rep_id = rep.id if rep is not None else None
        lead.decision_id = decision.id if decision else outcome.assignment.decision_id
        if rep is not None and outcome.ruleset_id:
            sla.start_clocks(session, account_id, contact.id, rep.id, now,
                             ruleset_id=outcome.ruleset_id, decision_id=lead.decision_id,
                             via_router_id=outcome.assignment.router_id)
        lead.rule_id, lead.ruleset_id = outcome.rule_id, outcome.ruleset_id
        lead.ruleset_version = outcome.ruleset_version
        lead.reason, lead.fields = outcome.reason, outcome.fields
        if contact.source in WRITTEN_BACK and contact.source_id:  # the CRM record it is
            lead.crm, lead.crm_record_id = contact.source, contact.source_id
    return decision


def ingest(db: Database, account_id: str, values: dict[str, Any], *, key: str | None,
           now: datetime, window: timedelta, sync: Any = None, crm: Any = None
           ) -> LeadResult:
    """Store, decide, record, then write back: to the CRM the contact came from through
    ``sync``, or, for a contact that is only ours, through ``crm(account_id, lead_id)``,
    which finds or creates it in the account's CRM (``service.lead_crm``)."""
    lead, contact, created = _store(db, account_id, values, key, now, window)
    if contact is None and lead.reason.get("pending") and lead.contact_id:
        with detached(db) as session:
            contact = repo.contact(session, account_id, lead.contact_id)
    if contact is not None:
        with detached(db) as session:
            ruleset = rulesets_repo.active(session, account_id)
        fields = {**contact.fields, **lead.fields}
        outcome = decide(db, account_id, ruleset, fields, contact, now, dry=False, sync=sync)
        decision = _record(db, account_id, lead.id, contact, outcome, now)
        if decision is not None and contact.source in WRITTEN_BACK and sync is not None:
            # the write-back of a rule's own assignment, with the routers' retries
            contact.owner_rep_id = decision.rep_id
            dispatch_service.write_back(db, sync, account_id, contact,
                                        outcome.assignment.rep, decision.id)
        if contact.source not in WRITTEN_BACK and crm is not None:
            crm(account_id, lead.id)
    return load(db, account_id, lead.id, created=created)


def load(db: Database, account_id: str, lead_id: str, *, created: bool = False) -> LeadResult:
    with detached(db) as session:
        lead = repo.lead(session, account_id, lead_id)
        if lead is None:
            raise V1Error(404, "Lead not found")
        owner = reps_repo.get(session, account_id, lead.owner_rep_id) \
            if lead.owner_rep_id else None
        decision = repo.decisions(session, [lead.decision_id] if lead.decision_id else []
                                  ).get(lead.decision_id or "")
        return LeadResult(lead, owner, decision, created)


def list_leads(db: Database, account_id: str, *, limit: int,
               before: tuple[datetime, str] | None, **filters: Any) -> list[LeadResult]:
    with detached(db) as session:
        leads = repo.leads_page(session, account_id, limit=limit, before=before, **filters)
        reps = {r.id: r for r in reps_repo.for_account(session, account_id)}
        decisions = repo.decisions(session, [x.decision_id for x in leads if x.decision_id])
        return [LeadResult(x, reps.get(x.owner_rep_id or ""),
                           decisions.get(x.decision_id or ""), False) for x in leads]


def try_ruleset(db: Database, account_id: str, ruleset: RulesetRow, values: dict[str, Any],
                 now: datetime) -> Outcome:
    """What ``ruleset`` would decide for a sample lead now; writes nothing."""
    with detached(db) as session:
        contact = repo.contact_by(session, account_id, email=values.get("email"),
                                  external_id=values.get("external_id"))
    fields = {**(contact.fields if contact else {}), **flat_fields(values)}
    return decide(db, account_id, ruleset, fields, contact, now, dry=True)
