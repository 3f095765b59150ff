"""The router: one pure function from (account, router, record, reps, state, now) to a
decision with its reasons.

Outcome precedence, first that applies wins: account, router, published, settings,
object, trigger, overwrite, availability (backup user), caps, distribution.
The caller loads ``state`` and persists ``Decision.new_state`` in one transaction while
holding the router's lock; see ``connector.jobs.dispatch``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .availability import SkipReason, period_keys, unavailability
from .distribution import RotationState, pick_member, walk_from
from .model import (
    Account,
    DistributionModel,
    OverwriteMode,
    Rep,
    RoutableObject,
    Router,
    RouterMember,
    RouterSettings,
    Trigger,
)
from .outcomes import Outcome
from .triggers import evaluate


@dataclass(frozen=True)
class RouterState:
    """What the store loads under the router lock before a decision."""

    rotation: RotationState = field(default_factory=RotationState)
    #: assignments per (rep id, "day"|"week", period key) in the current periods
    period_counts: Mapping[tuple[str, str, str], int] = field(default_factory=dict)
    #: assignments per rep id within the load-balancing window
    window_counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Skip:
    rep_id: str
    email: str
    reason: str


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    rep: Rep | None = None
    via_backup: bool = False
    model: str | None = None
    matched_groups: tuple[int, ...] = ()
    skipped: tuple[Skip, ...] = ()
    new_rotation: RotationState | None = None
    #: the rep-local periods the assignment counts against ({"day": ..., "week": ...})
    periods: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    #: the trigger as it was evaluated (``{"match", "groups": [{"match", "conditions"}]}``)
    #: and the record's values of the fields it read, so the reason stays true after
    #: the router or the record changes; None before the trigger was evaluated
    trigger: Mapping[str, Any] | None = None
    fields: Mapping[str, Any] | None = None
    #: the email of the owner the record already had, when that kept it (cannot_overwrite)
    owner: str | None = None

    @property
    def assigned(self) -> bool:
        return self.outcome.assigned

    def explain(self) -> dict:
        """The decision's reason in a JSON-friendly shape, stored with every decision."""
        return {
            "outcome": self.outcome.name.lower(),
            "message": self.outcome.message,
            "model": self.model,
            "matched_groups": list(self.matched_groups),
            "skipped": [{"rep_id": s.rep_id, "email": s.email, "reason": s.reason}
                        for s in self.skipped],
            "picked": self.rep.email if self.rep else None,
            "via_backup": self.via_backup,
            "note": self.note,
            **({"trigger": self.trigger, "fields": self.fields}
               if self.trigger is not None else {}),
            **({"owner": self.owner} if self.owner else {}),
        }


def _cap_reason(member: RouterMember, rep: Rep, state: RouterState, now: datetime) -> str | None:
    if member.daily_cap is None and member.weekly_cap is None:
        return None
    keys = period_keys(rep, now)
    day = state.period_counts.get((rep.id, "day", keys["day"]), 0)
    week = state.period_counts.get((rep.id, "week", keys["week"]), 0)
    if member.daily_cap is not None and day >= member.daily_cap:
        return SkipReason.DAILY_CAP
    if member.weekly_cap is not None and week >= member.weekly_cap:
        return SkipReason.WEEKLY_CAP
    return None


#: chooses among the eligible members instead of the router's model alone (a fairness
#: policy): (model, eligible, rotation, window counts, members) -> (member, new rotation,
#: a sentence for the decision's note)
Picker = Callable[[DistributionModel, Sequence[RouterMember], RotationState,
                   Mapping[str, int], Sequence[RouterMember]],
                  tuple[RouterMember, RotationState, str]]


@dataclass(frozen=True)
class Walk:
    """What a walk of the rotation found, in rotation order."""

    #: members available and under their caps
    eligible: tuple[RouterMember, ...]
    #: members passed over, and why
    skipped: tuple[Skip, ...]
    #: members whose only reason was being outside working hours
    off_hours: tuple[RouterMember, ...]
    #: whether any member was available (capped or not)
    any_available: bool


def walk_rotation(settings: RouterSettings, reps: Mapping[str, Rep], state: RouterState,
                  now: datetime, *, first_only: bool) -> Walk:
    """Check members in rotation order, from the one after the last pick, for
    availability and caps. ``first_only`` (round robin) stops at the first eligible member:
    the rule needs nothing more, so the cost and the decision's reason cover the members
    passed over, however many the router has. Without it (weighted, load balanced, whose
    pick weighs every eligible member) the walk goes all the way round. A walk that finds
    nobody has gone all the way round too, so ``any_available`` and ``off_hours`` are
    complete whenever ``eligible`` is empty."""
    eligible: list[RouterMember] = []
    skipped: list[Skip] = []
    off_hours: list[RouterMember] = []
    any_available = False
    for member in walk_from(settings.rotation, state.rotation.last_position):
        rep = reps.get(member.rep_id)
        if rep is None:
            skipped.append(Skip(member.rep_id, "", SkipReason.NOT_A_USER))
            continue
        reason = unavailability(rep, now)
        if reason is None:
            any_available = True
            reason = _cap_reason(member, rep, state, now)
            if reason is None:
                eligible.append(member)
                if first_only:
                    break
                continue
        elif reason == SkipReason.OUTSIDE_WORKING_HOURS:
            off_hours.append(member)
        skipped.append(Skip(rep.id, rep.email, reason))
    return Walk(tuple(eligible), tuple(skipped), tuple(off_hours), any_available)


def decide(
    *,
    account: Account | None,
    router: Router | None,
    obj: RoutableObject | None,
    reps: Mapping[str, Rep],
    state: RouterState,
    now: datetime,
    picker: Picker | None = None,
) -> Decision:
    if account is None:
        return Decision(Outcome.ACCOUNT_NOT_FOUND)
    if not account.active:
        return Decision(Outcome.ACCOUNT_INACTIVE)
    if router is None or router.account_id != account.id:
        return Decision(Outcome.ROUTER_NOT_FOUND)
    if not router.published:
        return Decision(Outcome.ROUTER_UNPUBLISHED)
    settings = router.settings
    if settings is None:
        return Decision(Outcome.ROUTER_NO_SETTINGS)
    if obj is None or obj.archived or obj.object_type != router.object_type:
        return Decision(Outcome.OBJECT_NOT_FOUND)

    result = evaluate(settings.trigger, obj.fields)
    seen = evaluated_trigger(settings.trigger, obj.fields)
    if not result.matched:
        return replace(Decision(Outcome.TRIGGER_NOT_MATCHED, model=settings.model.value),
                       **seen)
    decision = _after_trigger(router, obj, reps, state, now, result.matched_groups, picker)
    return replace(decision, **seen)


def evaluated_trigger(trigger: Trigger, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The trigger's conditions as plain data and the record's values of the fields they
    read (JSON-friendly), to store with the decision."""
    groups = [{"match": g.match,
               "conditions": [{"field": c.field, "operator": c.operator,
                               "value": list(c.value) if isinstance(c.value, tuple | list)
                               else c.value} for c in g.conditions]}
              for g in trigger.groups]
    names = dict.fromkeys(c.field for g in trigger.groups for c in g.conditions)
    return {"trigger": {"match": trigger.match, "groups": groups},
            "fields": {name: fields.get(name) for name in names}}


def _after_trigger(router: Router, obj: RoutableObject, reps: Mapping[str, Rep],
                   state: RouterState, now: datetime, groups: tuple[int, ...],
                   picker: Picker | None = None) -> Decision:
    settings = router.settings
    assert settings is not None

    if obj.owner_rep_id is not None:
        owner = reps.get(obj.owner_rep_id)
        if settings.overwrite == OverwriteMode.NEVER:
            return Decision(Outcome.CANNOT_OVERWRITE, matched_groups=groups,
                            note="the record already has an owner and overwrite is off",
                            owner=owner.email if owner else None)
        if settings.overwrite == OverwriteMode.IF_OWNER_UNAVAILABLE and owner is not None \
                and unavailability(owner, now) is None:
            return Decision(Outcome.CANNOT_OVERWRITE, matched_groups=groups,
                            note=f"the current owner {owner.email} is available",
                            owner=owner.email)

    # a picker weighs every eligible member (what each is owed), so the walk goes round
    walk = walk_rotation(settings, reps, state, now,
                         first_only=settings.model == DistributionModel.ROUND_ROBIN
                         and picker is None)
    skipped, eligible = list(walk.skipped), list(walk.eligible)
    if not walk.any_available and walk.off_hours \
            and settings.ignore_working_hours_when_none_available:
        # nobody is available: those outside working hours count as available after all
        ids = {m.rep_id for m in walk.off_hours}
        skipped = [s for s in skipped if s.rep_id not in ids]
        for member in walk.off_hours:
            rep = reps[member.rep_id]
            reason = _cap_reason(member, rep, state, now)
            if reason is None:
                eligible.append(member)
            else:
                skipped.append(Skip(rep.id, rep.email, reason))
    elif not walk.any_available:
        backup = reps.get(settings.backup_rep_id) if settings.backup_rep_id else None
        if settings.backup_enabled and backup is not None:
            return Decision(Outcome.ASSIGNED, rep=backup, via_backup=True,
                            model=settings.model.value, matched_groups=groups,
                            skipped=tuple(skipped), periods=period_keys(backup, now),
                            note="no user was available; assigned to the backup user")
        return Decision(Outcome.NO_USERS_AVAILABLE, model=settings.model.value,
                        matched_groups=groups, skipped=tuple(skipped))
    if not eligible:
        return Decision(Outcome.LIMIT_REACHED, model=settings.model.value,
                        matched_groups=groups, skipped=tuple(skipped))

    note = ""
    if picker is None:
        member, rotation = pick_member(settings.model, eligible, state.rotation,
                                       state.window_counts, settings.members)
    else:
        member, rotation, note = picker(settings.model, eligible, state.rotation,
                                        state.window_counts, settings.members)
    rep = reps[member.rep_id]
    return Decision(Outcome.ASSIGNED, rep=rep, model=settings.model.value,
                    matched_groups=groups, skipped=tuple(skipped), new_rotation=rotation,
                    periods=period_keys(rep, now), note=note)
