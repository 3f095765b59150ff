"""A stored decision reason (``Decision.explain()``) told in plain sentences.

"Why was this routed to Jane?" is answered from the reason stored with the decision:
outcome, model, matched trigger groups, who was skipped and why, backup, and (for
decisions stored since the reason carries them) the trigger's conditions and the
record's values of the fields it read at that moment. Older decisions fall back to the
router's current conditions, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .forms import OPERATOR_LABELS

MODELS = {
    "round_robin": "round robin: the next user in turn after the previous assignment",
    "weighted": "weighted rotation: each user gets a share of records proportional to "
                "their weight",
    "load_balanced": "load balancing: the user with the fewest assignments in the "
                     "recent window",
}


@dataclass
class Explanation:
    headline: str
    steps: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: the conditions came from the decision itself (False: the router's current ones)
    stored_trigger: bool = True
    #: the values of the fields the trigger read, as stored with the decision
    fields: dict[str, Any] | None = None


def condition_text(cond: dict[str, Any]) -> str:
    operator = OPERATOR_LABELS.get(cond.get("operator", ""), cond.get("operator", "?"))
    value = cond.get("value")
    if cond.get("operator") in ("is_known", "is_unknown"):
        return f"{cond.get('field')} {operator}"
    if isinstance(value, list):
        joiner = " and " if cond.get("operator") == "between" else ", "
        value = joiner.join(str(v) for v in value)
    return f"{cond.get('field')} {operator} '{value}'"


def group_text(group: dict[str, Any]) -> str:
    joiner = " and " if group.get("match", "all") == "all" else " or "
    return joiner.join(condition_text(c) for c in group.get("conditions", [])) or \
        "(no conditions)"


def _trigger_step(reason: dict[str, Any], settings: dict[str, Any] | None) -> str:
    groups = ((settings or {}).get("trigger") or {}).get("groups", [])
    if not groups:
        return "The router has no trigger conditions, so every record qualifies."
    matched = reason.get("matched_groups") or []
    parts = [f"group {i + 1} ({group_text(groups[i])})" for i in matched if i < len(groups)]
    if not parts:
        return "The trigger matched."
    return "The trigger matched " + "; ".join(parts) + "."


def explain(reason: dict[str, Any], settings: dict[str, Any] | None,
            names: dict[str, str]) -> Explanation:
    """``names`` maps rep emails to display names (``Jane Doe <jane@...>``). The trigger
    stored with the decision wins over ``settings`` (the router's current ones)."""
    stored = isinstance(reason.get("trigger"), dict)
    if stored:
        settings = {"trigger": reason["trigger"]}
    explanation = _explain(reason, settings, names)
    explanation.stored_trigger = stored or outcome_before_trigger(reason)
    fields = reason.get("fields") if stored else None
    explanation.fields = fields
    if fields:
        values = "; ".join(f"{name} {_shown(value)}" for name, value in fields.items())
        explanation.steps.append(f"The record's values the trigger read then: {values}.")
    return explanation


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "was empty"
    if isinstance(value, list):
        return "was " + ", ".join(f"'{v}'" for v in value)
    return f"was '{value}'"


def outcome_before_trigger(reason: dict[str, Any]) -> bool:
    """Outcomes decided before the trigger is looked at need no conditions."""
    return reason.get("outcome") in ("account_not_found", "account_inactive",
                                     "router_not_found", "router_unpublished",
                                     "router_no_settings", "object_not_found")


def _explain(reason: dict[str, Any], settings: dict[str, Any] | None,
             names: dict[str, str]) -> Explanation:
    outcome = reason.get("outcome", "")
    picked = reason.get("picked")
    who = names.get(picked or "", picked or "nobody")
    skipped = [(names.get(s.get("email") or "", s.get("email") or s.get("rep_id", "?")),
                s.get("reason", "")) for s in reason.get("skipped", [])]
    steps: list[str] = []
    if outcome == "assigned":
        steps.append(_trigger_step(reason, settings))
        if reason.get("via_backup"):
            headline = f"Assigned to {who}, the backup user, because no one in the " \
                       "router was available."
        else:
            model = MODELS.get(reason.get("model") or "", reason.get("model") or "")
            headline = f"Assigned to {who}."
            steps.append(f"Picked by {model}.")
        steps.append("Users skipped before the pick are listed below." if skipped else
                     "No user of the router was skipped.")
    elif outcome == "trigger_not_matched":
        headline = "Not routed: the record did not match the router's trigger."
        groups = ((settings or {}).get("trigger") or {}).get("groups", [])
        match = ((settings or {}).get("trigger") or {}).get("match", "any")
        steps.append(f"The trigger needs {match} of these groups to match:")
        steps += [f"group {n}: {group_text(g)}" for n, g in enumerate(groups, start=1)]
    elif outcome == "cannot_overwrite":
        owner = reason.get("owner")
        named = f", {names.get(owner, owner)}," if owner else ""
        headline = f"Not routed: the record already has an owner{named} and the router " \
                   "may not overwrite it."
        if reason.get("note"):
            steps.append(f"Detail: {reason['note']}.")
    elif outcome == "no_users_available":
        headline = "Not routed: no user of the router was available and the backup user " \
                   "is disabled."
        steps.append(_trigger_step(reason, settings))
    elif outcome == "limit_reached":
        headline = "Not routed: every available user has reached their daily or weekly cap."
        steps.append(_trigger_step(reason, settings))
    else:
        headline = f"Not routed: {reason.get('message') or outcome}."
    if reason.get("note") and outcome not in ("cannot_overwrite",):
        steps.append(f"Note: {reason['note']}.")
    return Explanation(headline, steps, skipped)
