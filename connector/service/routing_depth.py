"""Routing depth on the dispatch path: a router's account match action, territory
condition and action, and fairness policy, around the core's pure ``decide``.

The router's own settings (trigger, overwrite, members, model) keep their precedence:
``decide`` runs first, unchanged and without side effects. Only when it got past the
trigger and the overwrite check do the extras apply, in this order:

1. the territory condition: a record outside the router's territories does not match;
2. the match action: the matched company's owner (or account team member by role), when
   available, gets the record, outside the rotation;
3. the territory action: the winning territory's rep, when available, likewise;
4. otherwise the router's model picks, through the fairness policy when one is set.

Each step the record went through is written into the decision's reason
(``account_match``, ``territory``, ``fairness``), fall-throughs included.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from connector.core import matching, territories
from connector.core.availability import unavailability
from connector.core.distribution import RotationState
from connector.core.engine import Decision, RouterState, decide
from connector.core.fairness import FairnessLedger, FairPick, ReturnPolicy, fair_pick
from connector.core.model import (
    Account,
    DistributionModel,
    Rep,
    RoutableObject,
    Router,
    RouterMember,
)
from connector.core.outcomes import Outcome
from connector.store import repositories as repo
from connector.store import routing_depth_repo as depth_repo
from connector.store.models import RouterRow

#: the keys of a router's settings this module reads
SETTINGS_KEYS = ("account_match", "territory", "fairness")
#: outcomes decided before the trigger or by it: the extras never change those
_BEFORE_EXTRAS = {Outcome.ACCOUNT_NOT_FOUND, Outcome.ACCOUNT_INACTIVE,
                  Outcome.ROUTER_NOT_FOUND, Outcome.ROUTER_UNPUBLISHED,
                  Outcome.ROUTER_NO_SETTINGS, Outcome.OBJECT_NOT_FOUND,
                  Outcome.TRIGGER_NOT_MATCHED, Outcome.CANNOT_OVERWRITE}


@dataclass(frozen=True)
class MatchPorts:
    splitter: matching.DomainSplitter
    scorer: matching.NameScorer


_ports_factory: Callable[[], MatchPorts] | None = None
_ports: MatchPorts | None = None


def use_ports(factory: Callable[[], MatchPorts]) -> None:
    """Wired by ``connector.bootstrap``: the public suffix list and the name scorer are
    built on first use (loading the suffix list takes a moment)."""
    global _ports_factory, _ports
    _ports_factory, _ports = factory, None


def ports() -> MatchPorts:
    global _ports
    if _ports is None:
        if _ports_factory is None:
            raise RuntimeError("matching ports are not wired (connector.bootstrap does it)")
        _ports = _ports_factory()
    return _ports


@dataclass(frozen=True)
class DepthSettings:
    match_role: str | None = None
    match_on: bool = False
    match_settings: matching.MatchSettings = matching.MatchSettings()
    lead_fields: Mapping[str, str] = field(default_factory=dict)
    #: None: no territory condition; (): any territory; names: one of those
    territory_in: tuple[str, ...] | None = None
    territory_action: bool = False
    territory_fields: Mapping[str, str] = field(default_factory=dict)
    fairness: ReturnPolicy | None = None
    fairness_window_days: int = 30
    credits: bool = True

    @property
    def uses_territories(self) -> bool:
        return self.territory_in is not None or self.territory_action


LEAD_FIELDS = {"email": "email", "website": "website_url", "company": "company"}
TERRITORY_FIELDS = {"country": "country", "region": "state", "postcode": "postcode",
                    "industry": "industry", "employees": "num_employees"}


def depth_settings(data: Mapping[str, Any] | None) -> DepthSettings | None:
    """The extras of a router's stored settings (validated when saved), or None."""
    if not data or not any(data.get(k) for k in SETTINGS_KEYS):
        return None
    am, te, fa = data.get("account_match"), data.get("territory"), data.get("fairness")
    out = DepthSettings()
    if am:
        out = replace(out, match_on=True, match_role=am.get("role") or None,
                      match_settings=matching.MatchSettings(
                          name_threshold=float(am.get("name_threshold", 92)),
                          tie_breakers=tuple(matching.TieBreaker(t) for t in am.get(
                              "tie_breakers", [t.value for t in matching.TieBreaker]))),
                      lead_fields={**LEAD_FIELDS, **(am.get("fields") or {})})
    if te:
        condition = te.get("condition", "none")
        out = replace(out, territory_in=None if condition == "none" else
                      (() if condition == "in_any" else tuple(te.get("names") or ())),
                      territory_action=bool(te.get("action")),
                      territory_fields={**TERRITORY_FIELDS, **(te.get("fields") or {})})
    if fa:
        out = replace(out, fairness=ReturnPolicy(fa.get("policy", "keep_position")),
                      fairness_window_days=int(fa.get("window_days", 30)),
                      credits=bool(fa.get("credits", True)))
    return out


#: router id -> (the cached Router it was read with, its extras): the router cache hands
#: out the same Router object while the account's routing version holds, so the
#: settings column (deferred on the dispatch path) is read again only after a change
_SETTINGS_CACHE: dict[str, tuple[Router, DepthSettings | None]] = {}


def settings_for(router_row: RouterRow | None, router: Router | None) -> DepthSettings | None:
    """The router's extras, parsed once per version of the router."""
    if router_row is None or router is None:
        return None
    entry = _SETTINGS_CACHE.get(router_row.id)
    if entry is not None and entry[0] is router:
        return entry[1]
    depth = depth_settings(router_row.settings)
    if len(_SETTINGS_CACHE) >= 1024:
        _SETTINGS_CACHE.clear()
    _SETTINGS_CACHE[router_row.id] = (router, depth)
    return depth


def _lead(obj: RoutableObject, names: Mapping[str, str]) -> matching.Lead:
    def text(key: str) -> str | None:
        value = obj.fields.get(names[key])
        return str(value) if value not in (None, "") else None
    return matching.Lead(email=text("email"), website=text("website"),
                         company=text("company"))


def _forced(router: Router, rep_id: str, account: Account, obj: RoutableObject,
            reps: Mapping[str, Rep], state: RouterState, now: datetime) -> Decision:
    """``decide`` with the router narrowed to one rep: the same outcome rules (a cap on
    that rep if it is a member) without moving the rotation."""
    settings = router.settings
    assert settings is not None
    member = next((m for m in settings.members if m.rep_id == rep_id),
                  RouterMember(rep_id, 0))
    narrowed = replace(router, settings=replace(
        settings, members=(replace(member, position=0),),
        model=DistributionModel.ROUND_ROBIN, backup_enabled=False))
    decision = decide(account=account, router=narrowed, obj=obj, reps=reps,
                      state=replace(state, rotation=RotationState()), now=now)
    return replace(decision, new_rotation=None, model=settings.model.value)


@dataclass
class DepthOutcome:
    decision: Decision
    #: added to the stored decision's reason
    reason: dict[str, Any]
    #: the ledger to store, when the fairness policy picked
    ledger: tuple[FairnessLedger, FairnessLedger] | None = None


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


#: a round-robin router without a fairness policy whose ledger owes a rep a record (an SLA
#: reassignment took one back): the owed turn is paid as ``keep_position`` pays it, outside
#: the rotation, which stays where it was
OWED_TURNS = DepthSettings(fairness=ReturnPolicy.KEEP_POSITION)


def owed_turns(session, router_row: RouterRow | None, router: Router | None,
               depth: DepthSettings | None) -> DepthSettings | None:
    """``depth``, or :data:`OWED_TURNS` for a round-robin router without extras whose
    ledger holds credits; the ledger is looked at only for such routers."""
    if depth is not None or router_row is None or router is None \
            or router.settings is None \
            or router.settings.model != DistributionModel.ROUND_ROBIN:
        return depth
    return OWED_TURNS if depth_repo.has_credits(session, router_row.id) else None


def decide_with_depth(session, *, account: Account | None, router: Router | None,
                      router_row: RouterRow | None, obj: RoutableObject | None,
                      reps: Mapping[str, Rep], state: RouterState, now: datetime,
                      depth: DepthSettings) -> DepthOutcome:
    """See the module docstring; reads companies, territories and the ledger from
    ``session`` (the caller holds the router's lock) and writes nothing."""
    reason: dict[str, Any] = {}
    picked: list[FairPick] = []
    before = None
    picker = None
    if depth.fairness is not None and router_row is not None:
        before = depth_repo.ledger(session, router_row.id,
                                   now - timedelta(days=depth.fairness_window_days))

        def picker(model: DistributionModel, eligible: Sequence[RouterMember],
                   rotation: RotationState, window: Mapping[str, int],
                   members: Sequence[RouterMember]):
            pick = fair_pick(depth.fairness, model, eligible, rotation, before, window,
                             members)
            picked.append(pick)
            return pick.member, pick.rotation, pick.explanation

    base = decide(account=account, router=router, obj=obj, reps=reps, state=state, now=now,
                  picker=picker)
    if base.outcome in _BEFORE_EXTRAS:
        return DepthOutcome(base, reason)
    assert account is not None and router is not None and obj is not None

    winner: territories.TerritoryMatch | None = None
    if depth.uses_territories:
        winner = territories.evaluate(
            depth_repo.territories(session, account.id),
            territories.record_from(obj.fields, **depth.territory_fields))
        t = winner.territory
        reason["territory"] = {"name": t.name if t else None,
                               "assign_to": t.assignee if t else None,
                               "reason": winner.reason,
                               "matched": [m.name for m in winner.matched]}
        if depth.territory_in is not None:
            inside = t is not None and (not depth.territory_in or any(
                m.name in depth.territory_in for m in winner.matched))
            if not inside:
                wanted = ", ".join(depth.territory_in) or "any territory"
                note = f"territory condition: the record is not in {wanted} ({winner.reason})"
                return DepthOutcome(Decision(Outcome.TRIGGER_NOT_MATCHED,
                                             model=base.model, note=note,
                                             matched_groups=base.matched_groups,
                                             trigger=base.trigger, fields=base.fields),
                                    reason)

    notes: list[str] = []
    if depth.match_on:
        p = ports()
        index = matching.index_companies(
            (depth_repo.company_to_domain(r) for r in depth_repo.companies(session, account.id)),
            p.splitter)
        lead = _lead(obj, depth.lead_fields)
        found, _ = matching.candidates(lead, index, splitter=p.splitter, scorer=p.scorer,
                                       settings=depth.match_settings)
        # the candidates' people, for "owner available" and the action
        people = {rep_id for c in found for rep_id in
                  [c.company.owner_rep_id, *c.company.account_team.values()] if rep_id}
        reps = {**repo.reps_by_id(session, account.id, people - set(reps)), **reps}
        available = [r.id for r in reps.values() if unavailability(r, now) is None]
        result = matching.match(lead, index, splitter=p.splitter, scorer=p.scorer,
                                settings=depth.match_settings, available_rep_ids=available)
        action = matching.assign_to_account(result, depth.match_role, reps, now)
        reason["account_match"] = {**result.explain(), "action": action.reason}
        if action.rep_id is not None:
            forced = _forced(router, action.rep_id, account, obj, reps, state, now)
            if forced.assigned:
                return DepthOutcome(replace(forced, note=action.reason), reason)
            notes.append(f"{action.reason}, but {forced.outcome.message.lower()}")
        else:
            notes.append(action.reason)
    if depth.territory_action and winner is not None and winner.territory is not None:
        t = winner.territory
        if t.assignee_kind is territories.AssigneeKind.REP:
            if t.assignee_id not in reps:
                reps = {**reps, **repo.reps_by_id(session, account.id, [t.assignee_id])}
            rep = reps.get(t.assignee_id)
            why = unavailability(rep, now) if rep is not None else "not a user"
            if why is None:
                forced = _forced(router, t.assignee_id, account, obj, reps, state, now)
                if forced.assigned:
                    note = f"territory {t.name} assigns to {forced.rep.email}"
                    return DepthOutcome(replace(forced, note=_join(*notes, note)), reason)
                why = forced.outcome.message.lower()
            notes.append(f"territory {t.name}'s rep {t.assignee_id} cannot take it ({why}); "
                         "the router's model decides")
        else:
            notes.append(f"territory {t.name} names router {t.assignee_id}, which this "
                         "router does not hand records to; the router's model decides")
    decision = replace(base, note=_join(*notes, base.note))
    ledger = None
    if picked and base.assigned and before is not None:
        reason["fairness"] = {"policy": depth.fairness.value,
                              "arithmetic": picked[-1].explanation}
        ledger = (before, picked[-1].ledger)
    return DepthOutcome(decision, reason, ledger)


def credit_reassigned(session, account_id: str, router_row: RouterRow,
                      depth: DepthSettings | None, previous_owner: str | None,
                      decision: Decision, members: Collection[str]) -> None:
    """A record reassigned away from one of the router's reps gives that rep one back."""
    if depth is None or depth.fairness is None or not depth.credits:
        return
    if decision.assigned and decision.rep is not None and previous_owner \
            and previous_owner != decision.rep.id and previous_owner in members:
        depth_repo.add_credit(session, account_id, router_row.id, previous_owner)


def save(session, account_id: str, router_row: RouterRow, outcome: DepthOutcome) -> None:
    if outcome.ledger is not None:
        depth_repo.save_ledger(session, account_id, router_row.id, *outcome.ledger)


__all__ = ["OWED_TURNS", "DepthOutcome", "DepthSettings", "MatchPorts", "credit_reassigned",
           "decide_with_depth", "depth_settings", "owed_turns", "ports", "save",
           "settings_for",
           "use_ports"]
