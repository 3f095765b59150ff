"""Request bodies of /v1, validated with pydantic; every invalid field is reported (422
``VALIDATION_ERROR`` with ``fields``). Rule conditions are the routers' trigger schema,
so the core's operators and all/any groups are checked the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, field_validator, model_validator

from connector.core import rulesets as core
from connector.core import sla as core_sla

from ..schemas import OutOfOffice, Strict, TimeSpan, TriggerIn, UserIn

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _scalar(value: Any) -> Any:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError("must be a text, a number, a boolean or null")
    return value


#: a field value: one error for anything else, not one per member of a union
Scalar = Annotated[Any, AfterValidator(_scalar),
                   WithJsonSchema({"type": ["string", "number", "boolean", "null"]})]
Status = Literal["AVAILABLE", "BUSY", "AWAY", "OFFLINE"]


class RepIn(Strict):
    email: str = Field(min_length=3, max_length=320, pattern=EMAIL)
    name: str = Field(default="", max_length=200)
    status: Status = "AVAILABLE"
    capacity: int | None = Field(default=None, ge=0, le=100000,
                                 description="Leads a rep may get through /v1/leads rules "
                                             "per UTC day; null for no limit")
    timezone: str = "UTC"
    working_hours: dict[str, list[TimeSpan]] | None = None
    out_of_office: list[OutOfOffice] = Field(default_factory=list, max_length=100)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return UserIn._zone(value)

    @field_validator("working_hours")
    @classmethod
    def _days(cls, value):
        return UserIn._days(value)


class RepPatch(RepIn):
    email: str | None = Field(default=None, min_length=3, max_length=320, pattern=EMAIL)
    name: str | None = Field(default=None, max_length=200)
    status: Status | None = None
    timezone: str | None = None
    out_of_office: list[OutOfOffice] | None = Field(default=None, max_length=100)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else UserIn._zone(value)

    @model_validator(mode="after")
    def _not_null(self) -> RepPatch:
        for name in ("email", "name", "status", "timezone"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"'{name}' may not be null")
        return self


class ActionIn(Strict):
    type: Literal["ASSIGN_REP", "ASSIGN_ROUTER", "ASSIGN_CONTACT_OWNER", "SET_FIELD",
                  "NOTIFY"]
    rep_id: str | None = Field(default=None, max_length=60)
    router_id: str | None = Field(default=None, max_length=60)
    field: str | None = Field(default=None, min_length=1, max_length=100)
    value: Scalar = None
    to: str | None = Field(default=None, max_length=320,
                           description="NOTIFY: 'OWNER', a rep id or an email")
    message: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _params(self) -> ActionIn:
        needs = {core.ASSIGN_REP: "rep_id", core.ASSIGN_ROUTER: "router_id",
                 core.SET_FIELD: "field"}.get(self.type)
        if needs and not getattr(self, needs):
            raise ValueError(f"{self.type} needs '{needs}'")
        return self


def _one_assignment(actions: list[ActionIn]) -> list[ActionIn]:
    if sum(1 for a in actions if a.type in core.ASSIGNMENTS) > 1:
        raise ValueError("a rule may have at most one ASSIGN_* action")
    return actions


class RuleIn(Strict):
    id: str | None = Field(default=None, max_length=40)
    name: str = Field(default="", max_length=200)
    conditions: TriggerIn = Field(default_factory=TriggerIn)
    actions: list[ActionIn] = Field(min_length=1, max_length=20)

    _check = field_validator("actions")(_one_assignment)


class DefaultRuleIn(Strict):
    actions: list[ActionIn] = Field(default_factory=list, max_length=20)

    _check = field_validator("actions")(_one_assignment)


class RulesetIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    rules: list[RuleIn] = Field(max_length=200)
    default_rule: DefaultRuleIn = Field(default_factory=DefaultRuleIn)
    active: bool = False


class RulesetPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    rules: list[RuleIn] | None = Field(default=None, max_length=200)
    default_rule: DefaultRuleIn | None = None
    active: bool | None = None


class LeadIn(Strict):
    email: str = Field(min_length=3, max_length=320, pattern=EMAIL)
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    company: str | None = Field(default=None, max_length=200)
    job_title: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=100)
    source: str | None = Field(default=None, max_length=100)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    fields: dict[str, Scalar] = Field(default_factory=dict, max_length=100)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()


class LeadSample(LeadIn):
    email: str | None = Field(default=None, min_length=3, max_length=320, pattern=EMAIL)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().lower()


class _ContactDetails(Strict):
    """The details both the upsert and ``PATCH`` change."""

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    company: str | None = Field(default=None, max_length=200)
    job_title: str | None = Field(default=None, max_length=200)
    fields: dict[str, Scalar] = Field(default_factory=dict, max_length=100)


class ContactIn(_ContactDetails):
    email: str | None = Field(default=None, min_length=3, max_length=320, pattern=EMAIL)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().lower()

    @model_validator(mode="after")
    def _identified(self) -> ContactIn:
        if not self.email and not self.external_id:
            raise ValueError("give 'email' or 'external_id' to upsert by")
        return self


class ContactPatch(_ContactDetails):
    """What ``PATCH /v1/contacts/{id}`` changes; ``status`` is the lead's status (a new
    value stops the contact's "status changed" SLA clocks)."""

    status: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return None if value is None else value.strip()

    @model_validator(mode="after")
    def _something(self) -> ContactPatch:
        if not self.model_fields_set - {"fields"} and not self.fields:
            raise ValueError("give at least one field to change, e.g. 'status'")
        return self


class ActivityIn(Strict):
    type: Literal["CALL", "MEETING", "EMAIL", "NOTE"]
    notes: str = Field(default="", max_length=10000)
    outcome: Literal["POSITIVE", "NEUTRAL", "NEGATIVE", "NO_ANSWER"] | None = None
    occurred_at: datetime | None = None
    rep_id: str | None = Field(default=None, max_length=60)

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must include a time zone offset, e.g. 2026-01-05T09:00:00Z")
        return value


# -- SLA monitors ----------------------------------------------------------------------

def _duration(value: str) -> str:
    """Checked (``ValueError`` says what is wrong) and kept as written, upper case."""
    core_sla.parse_duration(value)
    return value.strip().upper()


def _stage_after(value: str) -> str:
    return "PT0S" if value.strip().upper() in ("PT0S", "P0D") else _duration(value)


def _reminders(value: list[float]) -> list[float]:
    return list(core_sla.fractions(value))


Duration = Annotated[str, Field(min_length=2, max_length=40,
                                description="ISO 8601 duration, e.g. PT15M, PT90S, P1DT2H"),
                     AfterValidator(_duration)]


class SlaStageIn(Strict):
    after: Annotated[str, Field(min_length=2, max_length=40,
                                description="How long past the deadline the stage runs "
                                            "(ISO 8601, PT0S: at the deadline)"),
                     AfterValidator(_stage_after)] = "PT0S"
    notify: list[Literal["owner", "manager"]] = Field(default_factory=lambda: ["owner"],
                                                      max_length=2)
    reassign: bool = False
    set_away: bool = False


class SlaMonitorIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    router_id: str | None = Field(default=None, max_length=60)
    ruleset_id: str | None = Field(default=None, max_length=60)
    condition: Literal["first_touch", "status_changed", "meeting_booked"]
    duration: Duration
    clock: Literal["working", "wall"] = "working"
    reminders: Annotated[list[float], AfterValidator(_reminders)] = Field(
        default_factory=list, max_length=5,
        description="Fractions of the duration (0-1) at which the owner is reminded")
    stages: list[SlaStageIn] = Field(default_factory=list, max_length=3)
    manager_emails: list[Annotated[str, Field(max_length=320, pattern=EMAIL)]] = Field(
        default_factory=list, max_length=20)
    active: bool = True


class SlaMonitorPatch(SlaMonitorIn):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    condition: Literal["first_touch", "status_changed", "meeting_booked"] | None = None
    duration: Duration | None = None
    clock: Literal["working", "wall"] | None = None
    reminders: Annotated[list[float], AfterValidator(_reminders)] | None = Field(
        default=None, max_length=5)
    stages: list[SlaStageIn] | None = Field(default=None, max_length=3)
    manager_emails: list[Annotated[str, Field(max_length=320, pattern=EMAIL)]] | None = \
        Field(default=None, max_length=20)
    active: bool | None = None
