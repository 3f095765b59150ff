"""Request bodies of the management API, validated with pydantic.

Validation errors become 400s whose message names the field, e.g.
``Invalid field 'users.0.weight': Input should be greater than or equal to 0``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from connector.core.codec import WEEKDAYS
from connector.core.triggers import check_condition, check_operator

from .routing_depth_schemas import AccountMatchIn, FairnessIn, TerritorySettingIn

OOO_EARLIEST = datetime(1970, 1, 1)
OOO_LATEST = datetime(9998, 12, 31)
_HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimeSpan(Strict):
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be a time of day as HH:MM")
        return value


class OutOfOffice(Strict):
    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must include a time zone offset, e.g. 2026-01-05T09:00:00Z")
        # a day of margin on both ends: shown in any rep's time zone (up to 14 h from
        # UTC), or compared after conversion, the date must still exist
        try:
            utc = value.replace(tzinfo=None) - value.utcoffset()
        except OverflowError:
            utc = None
        if utc is None or not OOO_EARLIEST <= utc <= OOO_LATEST:
            raise ValueError(f"must be between {OOO_EARLIEST:%Y-%m-%d} and "
                             f"{OOO_LATEST:%Y-%m-%d}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> OutOfOffice:
        if self.end <= self.start:
            raise ValueError("the end must be after the start")
        return self


class UserIn(Strict):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str = ""
    status: Literal["available", "unavailable"] = "available"
    timezone: str = "UTC"
    working_hours: dict[str, list[TimeSpan]] | None = None
    out_of_office: list[OutOfOffice] = []
    crm_ids: dict[str, str] = {}

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone '{value}'") from None
        return value

    @field_validator("working_hours")
    @classmethod
    def _days(cls, value: dict[str, list[TimeSpan]] | None):
        if value is not None:
            for day in value:
                if day not in WEEKDAYS:
                    raise ValueError(f"unknown weekday '{day}', use {', '.join(WEEKDAYS)}")
        return value


class UserPatch(UserIn):
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str | None = None
    status: Literal["available", "unavailable"] | None = None
    timezone: str | None = None
    out_of_office: list[OutOfOffice] | None = None
    crm_ids: dict[str, str] | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else UserIn._zone(value)


class ConditionIn(Strict):
    """One trigger condition; the core's own rules decide whether the value fits the
    operator, so a saved router can always be evaluated."""

    field: str = Field(min_length=1)
    operator: str
    value: Any = Field(default=None, validate_default=True)

    @field_validator("operator")
    @classmethod
    def _known(cls, value: str) -> str:
        check_operator(value)
        return value

    @field_validator("value")
    @classmethod
    def _fits_operator(cls, value: Any, info: ValidationInfo) -> Any:
        operator = info.data.get("operator")
        if operator is not None:  # an unknown operator has its own error
            check_condition(operator, value)
        return value


class GroupIn(Strict):
    match: Literal["all", "any"] = "all"
    conditions: list[ConditionIn]


class TriggerIn(Strict):
    match: Literal["all", "any"] = "any"
    groups: list[GroupIn] = []


class MemberIn(Strict):
    user_id: str
    weight: int = Field(default=1, ge=0, le=1000)
    daily_cap: int | None = Field(default=None, ge=0)
    weekly_cap: int | None = Field(default=None, ge=0)


class BackupIn(Strict):
    enabled: bool = False
    user_id: str | None = None


_SF_ID = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


class DestinationIn(Strict):
    """Where a decision goes in Salesforce. Conversations (BYOC): ``channel`` (the
    channel's own routing), ``flow`` (flow + fallback queue, optional routing attributes:
    channel variable -> mapped field), ``queue`` or ``rep`` (then v1/agentWork). Records:
    ``queue`` makes the queue the owner; otherwise the chosen rep owns the record."""

    kind: Literal["channel", "flow", "queue", "rep"]
    flow_id: str | None = None
    fallback_queue_id: str | None = None
    fallback_queue: str | None = Field(default=None, min_length=1, max_length=80)
    queue_id: str | None = None
    queue: str | None = Field(default=None, min_length=1, max_length=80)
    routing_attributes: dict[str, str] = {}

    @field_validator("flow_id", "fallback_queue_id", "queue_id")
    @classmethod
    def _salesforce_id(cls, value: str | None) -> str | None:
        if value is not None and not _SF_ID.match(value):
            raise ValueError("must be a 15- or 18-character Salesforce id")
        return value

    def check(self) -> None:
        if self.kind == "flow":
            if not self.flow_id:
                raise ValueError("destination.flow_id is required for a flow destination")
            if not (self.fallback_queue_id or self.fallback_queue):
                raise ValueError("destination.fallback_queue_id (or fallback_queue) is "
                                 "required for a flow destination")
        if self.kind == "queue" and not (self.queue_id or self.queue):
            raise ValueError("destination.queue_id (or queue) is required for a queue "
                             "destination")
        if self.kind != "flow" and (self.flow_id or self.routing_attributes):
            raise ValueError("destination.flow_id and routing_attributes apply to a flow "
                             "destination only")


class SettingsIn(Strict):
    users: list[MemberIn] = []
    distribution: Literal["round_robin", "weighted", "load_balanced"] = "round_robin"
    load_window_hours: int = Field(default=24, ge=1, le=24 * 90)
    trigger: TriggerIn = TriggerIn()
    overwrite: Literal["never", "if_owner_unavailable", "always"] = "never"
    backup_user: BackupIn = BackupIn()
    ignore_working_hours_when_none_available: bool = False
    #: which CRM events start the router: record creation, change of listed properties
    start_on: list[Literal["creation", "change"]] = ["creation"]
    watch_properties: list[str] = []
    destination: dict[str, Any] | None = None
    account_match: AccountMatchIn | None = None
    territory: TerritorySettingIn | None = None
    fairness: FairnessIn | None = None

    @field_validator("destination")
    @classmethod
    def _destination(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            parsed = DestinationIn.model_validate(value)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(["destination", *(str(p) for p in error["loc"])])
            if error["type"] == "extra_forbidden":
                raise ValueError(f"{where} is not a known setting") from None
            raise ValueError(f"{where}: {error['msg'].removeprefix('Value error, ')}") \
                from None
        parsed.check()
        return parsed.model_dump(exclude_none=True, exclude_defaults=True) | {
            "kind": parsed.kind}

    @model_validator(mode="after")
    def _watched_when_started_on_change(self) -> SettingsIn:
        if "change" in self.start_on and not self.watch_properties:
            raise ValueError("watch_properties must name at least one CRM property when "
                             "start_on includes 'change'")
        return self


OBJECT_TYPES = ("contact", "ticket", "company", "deal", "lead", "case", "conversation")


class RouterIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    object_type: Literal["contact", "ticket", "company", "deal", "lead", "case",
                         "conversation"]
    published: bool = False
    settings: SettingsIn | None = None

    @model_validator(mode="after")
    def _destination_fits(self) -> RouterIn:
        try:
            check_destination_for(self.object_type, self.settings)
        except ValueError as exc:
            raise ValueError(f"settings.destination: {exc}") from None
        return self


def check_destination_for(object_type: str, settings: SettingsIn | None) -> None:
    """A flow, rep or channel destination means a BYOC conversation; a Salesforce record
    router may only name a queue (the queue then owns the record)."""
    destination = (settings.destination or {}) if settings is not None else {}
    kind = destination.get("kind")
    if kind and object_type != "conversation" and kind != "queue":
        raise ValueError(f"destination kind '{kind}' applies to conversation routers only; "
                         f"a {object_type} router may name a queue")


class RouterPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    published: bool | None = None
    settings: SettingsIn | None = None


class FieldIn(Strict):
    object_type: Literal["contact", "ticket"]
    internal_name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,99}$")
    label: str = ""
    type: Literal["string", "number", "boolean", "date", "datetime", "enum", "email"] = "string"
    options: list[str] = []


class AccountIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    active: bool = True


class AccountPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    active: bool | None = None


def first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "body"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"Unknown field '{where}'"
    if error["type"] == "missing":
        return f"Missing required field '{where}'"
    return f"Invalid field '{where}': {message}"
