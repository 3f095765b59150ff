"""The router edit form: HTML fields to the API's settings document and back.

The form posts flat fields; ``settings_from_form`` builds the same JSON the management
API accepts and validates it with the same pydantic schema (``SettingsIn``), so the
console can never store a router the API would refuse. Errors name the field as the API
does (``settings.users.0.weight``) plus who or which row it is.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from connector.core.triggers import OPERATORS

from ..schemas import SettingsIn
from . import wording
from .wording import nth

LIST_OPERATORS = ("in", "not_in", "between")
NO_VALUE_OPERATORS = ("is_known", "is_unknown")
#: empty rows under the conditions; "Add a condition" adds more in the browser
EXTRA_CONDITION_ROWS = 1


def condition_rows(settings: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per condition (group number from 1), plus an empty row to add one."""
    rows = []
    groups = ((settings or {}).get("trigger") or {}).get("groups", [])
    for number, group in enumerate(groups, start=1):
        for cond in group.get("conditions", []):
            value = cond.get("value")
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            rows.append({"group": number, "field": cond.get("field", ""),
                         "operator": cond.get("operator", "equals"),
                         "value": "" if value is None else str(value)})
    last = max((r["group"] for r in rows), default=1)
    rows += [{"group": last, "field": "", "operator": "equals", "value": ""}
             for _ in range(EXTRA_CONDITION_ROWS)]
    return rows


def group_matches(settings: dict[str, Any] | None) -> dict[int, str]:
    groups = ((settings or {}).get("trigger") or {}).get("groups", [])
    return {n: g.get("match", "all") for n, g in enumerate(groups, start=1)}


def _value(operator: str, raw: str) -> Any:
    raw = raw.strip()
    if operator in NO_VALUE_OPERATORS:
        return None
    if operator in LIST_OPERATORS:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def split_list(raw: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in raw.split(",") if part.strip()]


def trigger_from_form(form: MultiDict, errors: list[str]) -> dict[str, Any]:
    groups: dict[int, list[dict[str, Any]]] = {}
    index = 0
    while f"cond-{index}-field" in form:
        field = form.get(f"cond-{index}-field", "").strip()
        if field:
            raw_group = form.get(f"cond-{index}-group", "1").strip() or "1"
            if not raw_group.isdigit() or int(raw_group) < 1:
                errors.append(f"Trigger condition row {index + 1}: group must be a number "
                              f"from 1, got '{raw_group}'")
            else:
                operator = form.get(f"cond-{index}-operator", "equals")
                groups.setdefault(int(raw_group), []).append(
                    {"field": field, "operator": operator,
                     "value": _value(operator, form.get(f"cond-{index}-value", ""))})
        index += 1
    return {"match": form.get("trigger_match", "any"),
            "groups": [{"match": form.get(f"group-{n}-match", "all"), "conditions": conds}
                       for n, conds in sorted(groups.items())]}


def _members(form: MultiDict, rep_ids: list[str]) -> list[dict[str, Any]]:
    members = []
    for rep_id in rep_ids:
        if not form.get(f"member-{rep_id}-on"):
            continue
        member: dict[str, Any] = {"user_id": rep_id,
                                  "weight": form.get(f"member-{rep_id}-weight", "1").strip()}
        for cap in ("daily_cap", "weekly_cap"):
            raw = form.get(f"member-{rep_id}-{cap}", "").strip()
            member[cap] = raw or None
        members.append(member)
    return members


def settings_from_form(form: MultiDict, rep_ids: list[str], labels: dict[str, str],
                       previous: dict[str, Any] | None) -> tuple[SettingsIn | None, list[str]]:
    """Validated settings, or None and every error found (each naming its field)."""
    errors: list[str] = []
    data: dict[str, Any] = {
        key: value for key, value in (previous or {}).items()
        if key in ("destination", "account_match", "territory", "fairness")
    }
    start_on = form.getlist("start_on")
    if not start_on:
        errors.append("Start on: choose record creation, a change of watched properties, "
                      "or both (settings.start_on)")
    data.update({
        "start_on": start_on or ["creation"],
        "watch_properties": split_list(form.get("watch_properties", "")),
        "users": _members(form, rep_ids),
        "distribution": form.get("distribution", "round_robin"),
        "load_window_hours": form.get("load_window_hours", "24").strip() or "24",
        "trigger": trigger_from_form(form, errors),
        "overwrite": form.get("overwrite", "never"),
        "backup_user": {"enabled": bool(form.get("backup_enabled")),
                        "user_id": form.get("backup_user_id") or None},
        "ignore_working_hours_when_none_available": bool(form.get("ignore_working_hours")),
    })
    try:
        settings = SettingsIn.model_validate(data)
    except ValidationError as exc:
        errors += [describe(error, data, labels) for error in exc.errors()]
        return None, errors
    return (None, errors) if errors else (settings, [])


_SETTING_LABELS = {
    "distribution": "Model", "load_window_hours": "Load-balancing window (hours)",
    "overwrite": "When the record already has an owner", "start_on": "Start on",
    "watch_properties": "Watched properties", "destination": "Destination",
    "ignore_working_hours_when_none_available": "Ignore working hours",
}


def describe(error: dict[str, Any], data: dict[str, Any], labels: dict[str, str]) -> str:
    """``Weight of Jane Doe <jane@...>: must be 0 or more (settings.users.1.weight)``:
    reps by name, rows and groups counted from 1, the API's field name last."""

    def label(loc: list[Any]) -> str:
        if len(loc) >= 3 and loc[0] == "users" and isinstance(loc[1], int):
            who = labels.get(data["users"][loc[1]]["user_id"], f"user {nth(loc[1])}")
            return f"{str(loc[2]).replace('_', ' ').capitalize()} of {who}"
        if loc[:2] == ["trigger", "groups"] and len(loc) > 2:
            text = f"Trigger group {nth(loc[2])}"
            if len(loc) > 4 and loc[3] == "conditions":
                text += f", condition {nth(loc[4])}"
                if len(loc) > 5:
                    text += f", {loc[5]}"
            return text
        if loc[:1] == ["backup_user"]:
            return "Backup user"
        if loc and loc[0] in _SETTING_LABELS:
            return _SETTING_LABELS[str(loc[0])] + (f" {nth(loc[1])}" if len(loc) > 1 else "")
        return ""

    return wording.describe(error, label, prefix="settings")


OPERATOR_LABELS = {
    "equals": "is", "not_equals": "is not", "contains": "contains",
    "not_contains": "does not contain", "starts_with": "starts with",
    "ends_with": "ends with", "in": "is one of", "not_in": "is none of",
    "is_known": "is known", "is_unknown": "is unknown", "gt": "is greater than",
    "gte": "is at least", "lt": "is less than", "lte": "is at most", "between": "is between",
}
assert set(OPERATOR_LABELS) == set(OPERATORS)
