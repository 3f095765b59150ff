"""Plain-dict (JSON) forms of router settings and rep availability, and back.

The store keeps these as JSON columns and the API validates them before they get here,
so parsing is strict only about shape, not about user-facing messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .model import (
    Condition,
    ConditionGroup,
    DistributionModel,
    OverwriteMode,
    Period,
    RouterMember,
    RouterSettings,
    TimeRange,
    Trigger,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def trigger_from_dict(data: dict[str, Any] | None) -> Trigger:
    if not data:
        return Trigger()
    groups = tuple(
        ConditionGroup(
            conditions=tuple(Condition(c["field"], c["operator"], c.get("value"))
                             for c in group.get("conditions", [])),
            match=group.get("match", "all"),
        )
        for group in data.get("groups", [])
    )
    return Trigger(groups=groups, match=data.get("match", "any"))


def settings_from_dict(data: dict[str, Any] | None) -> RouterSettings | None:
    if data is None:
        return None
    backup = data.get("backup_user") or {}
    return RouterSettings(
        members=tuple(
            RouterMember(rep_id=u["user_id"], position=u["position"],
                         weight=u.get("weight", 1), daily_cap=u.get("daily_cap"),
                         weekly_cap=u.get("weekly_cap"))
            for u in data.get("users", [])
        ),
        model=DistributionModel(data.get("distribution", "round_robin")),
        trigger=trigger_from_dict(data.get("trigger")),
        overwrite=OverwriteMode(data.get("overwrite", "never")),
        backup_rep_id=backup.get("user_id"),
        backup_enabled=bool(backup.get("enabled", False)),
        ignore_working_hours_when_none_available=bool(
            data.get("ignore_working_hours_when_none_available", False)),
        load_window_hours=int(data.get("load_window_hours", 24)),
    )


def working_hours_from_dict(
    data: dict[str, list[dict[str, str]]] | None,
) -> dict[int, tuple[TimeRange, ...]] | None:
    """``{"monday": [{"start": "09:00", "end": "17:00"}], ...}``; a missing day is off."""
    if data is None:
        return None
    return {
        WEEKDAYS.index(day): tuple(TimeRange(r["start"], r["end"]) for r in ranges)
        for day, ranges in data.items()
    }


def out_of_office_from_list(data: list[dict[str, str]] | None) -> tuple[Period, ...]:
    return tuple(
        Period(datetime.fromisoformat(p["start"].replace("Z", "+00:00")),
               datetime.fromisoformat(p["end"].replace("Z", "+00:00")))
        for p in data or []
    )
