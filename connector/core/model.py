"""Domain objects of the router: accounts, reps, routers and the records they route.

Plain frozen dataclasses; the store maps rows onto them and the web layer builds them
from validated input, so the routing rules can be tested with nothing but Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any


class ObjectType(StrEnum):
    CONTACT = "contact"
    TICKET = "ticket"
    COMPANY = "company"
    DEAL = "deal"
    LEAD = "lead"
    CASE = "case"
    CONVERSATION = "conversation"


#: The owner field each object type writes, as the seed documents name it.
OWNER_FIELDS: dict[str, str] = {
    ObjectType.CONTACT: "contact_owner",
    ObjectType.TICKET: "ticket_owner",
    ObjectType.COMPANY: "company_owner",
    ObjectType.DEAL: "deal_owner",
    ObjectType.LEAD: "lead_owner",
    ObjectType.CASE: "case_owner",
    ObjectType.CONVERSATION: "conversation_owner",
}


class RepStatus(StrEnum):
    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"


class DistributionModel(StrEnum):
    ROUND_ROBIN = "round_robin"
    WEIGHTED = "weighted"
    LOAD_BALANCED = "load_balanced"


class OverwriteMode(StrEnum):
    NEVER = "never"
    IF_OWNER_UNAVAILABLE = "if_owner_unavailable"
    ALWAYS = "always"


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    active: bool = True


@dataclass(frozen=True)
class TimeRange:
    """A half-open local time range on one weekday, "HH:MM" strings; end may be "24:00"."""

    start: str
    end: str


@dataclass(frozen=True)
class Period:
    """An absolute [start, end) interval, timezone-aware datetimes (out of office)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Rep:
    """A user who can own records. ``working_hours`` maps weekday 0=Monday to ranges;
    None means always within working hours."""

    id: str
    email: str
    name: str = ""
    status: RepStatus = RepStatus.AVAILABLE
    timezone: str = "UTC"
    working_hours: dict[int, tuple[TimeRange, ...]] | None = None
    out_of_office: tuple[Period, ...] = ()
    crm_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: Any = None


@dataclass(frozen=True)
class ConditionGroup:
    """Conditions joined by ``match`` ("all" or "any")."""

    conditions: tuple[Condition, ...]
    match: str = "all"


@dataclass(frozen=True)
class Trigger:
    """Groups joined by ``match``; a trigger with no groups matches everything."""

    groups: tuple[ConditionGroup, ...] = ()
    match: str = "any"


@dataclass(frozen=True)
class RouterMember:
    """A rep's place in a router: order of rotation, weight and caps."""

    rep_id: str
    position: int
    weight: int = 1
    daily_cap: int | None = None
    weekly_cap: int | None = None


@dataclass(frozen=True)
class RouterSettings:
    members: tuple[RouterMember, ...]
    model: DistributionModel = DistributionModel.ROUND_ROBIN
    trigger: Trigger = field(default_factory=Trigger)
    overwrite: OverwriteMode = OverwriteMode.NEVER
    backup_rep_id: str | None = None
    backup_enabled: bool = False
    ignore_working_hours_when_none_available: bool = False
    load_window_hours: int = 24

    @cached_property
    def rotation(self) -> tuple[RouterMember, ...]:
        """The members by position, sorted once per settings (a router's settings are
        loaded once per version and reused), not on every decision."""
        return tuple(sorted(self.members, key=lambda m: m.position))

    @cached_property
    def capped_rep_ids(self) -> frozenset[str]:
        """Members with a daily or weekly cap: the only ones whose counts a decision reads."""
        return frozenset(m.rep_id for m in self.members
                         if m.daily_cap is not None or m.weekly_cap is not None)


@dataclass(frozen=True)
class Router:
    id: str
    account_id: str
    name: str
    object_type: str
    published: bool = False
    settings: RouterSettings | None = None

    @property
    def owner_field(self) -> str:
        return OWNER_FIELDS.get(self.object_type, f"{self.object_type}_owner")


@dataclass(frozen=True)
class RoutableObject:
    """The record a router looks at: its mapped fields and current owner."""

    id: str
    object_type: str
    fields: dict[str, Any]
    owner_rep_id: str | None = None
    archived: bool = False
