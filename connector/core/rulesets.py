"""Rulesets: ordered rules over a lead's fields, the first that matches decides, and a
default rule decides when none does.

A rule's conditions are a router trigger (the same operators and all/any groups), so a
lead is matched exactly as a router would match a record. Evaluation is pure: what to do
with the chosen actions (assign, set a field, notify) is up to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import Trigger
from .triggers import evaluate

#: The actions a rule may take. One assignment action at most per rule.
ASSIGN_REP = "ASSIGN_REP"
ASSIGN_ROUTER = "ASSIGN_ROUTER"
ASSIGN_CONTACT_OWNER = "ASSIGN_CONTACT_OWNER"
SET_FIELD = "SET_FIELD"
NOTIFY = "NOTIFY"
ASSIGNMENTS = (ASSIGN_REP, ASSIGN_ROUTER, ASSIGN_CONTACT_OWNER)
ACTION_TYPES = (*ASSIGNMENTS, SET_FIELD, NOTIFY)
DEFAULT_RULE_ID = "default"


@dataclass(frozen=True)
class Action:
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    conditions: Trigger
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Ruleset:
    id: str
    version: int
    rules: tuple[Rule, ...]
    default_actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class RuleMatch:
    """The rule that decides, its actions, and why (every rule looked at, in order)."""

    rule_id: str
    rule_name: str
    actions: tuple[Action, ...]
    checked: tuple[dict[str, Any], ...]

    @property
    def is_default(self) -> bool:
        return self.rule_id == DEFAULT_RULE_ID

    @property
    def assignment(self) -> Action | None:
        return next((a for a in self.actions if a.type in ASSIGNMENTS), None)

    def reason(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "rule_name": self.rule_name,
                "default": self.is_default, "rules_checked": list(self.checked)}


def first_match(ruleset: Ruleset, fields: Mapping[str, Any]) -> RuleMatch:
    """The first rule whose conditions match ``fields``, else the default rule.

    Rules after the first match are not evaluated: order is the ruleset's priority, so a
    rule's outcome never depends on rules below it.
    """
    checked: list[dict[str, Any]] = []
    for rule in ruleset.rules:
        result = evaluate(rule.conditions, fields)
        checked.append({"rule_id": rule.id, "matched": result.matched,
                        "matched_groups": list(result.matched_groups)})
        if result.matched:
            return RuleMatch(rule.id, rule.name, rule.actions, tuple(checked))
    return RuleMatch(DEFAULT_RULE_ID, "Default rule", ruleset.default_actions, tuple(checked))


def apply_set_fields(actions: tuple[Action, ...], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with every SET_FIELD of ``actions`` applied, in order."""
    out = dict(fields)
    for action in actions:
        if action.type == SET_FIELD:
            out[str(action.params["field"])] = action.params.get("value")
    return out
