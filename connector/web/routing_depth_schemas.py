"""The router settings of routing depth (``account_match``, ``territory``, ``fairness``),
validated when a router is saved so a mistake is a 400 naming the field, not a dispatch
that fails later."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.core.matching import TieBreaker

_FIELD_NAME = r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LeadFieldsIn(_Strict):
    """Which of the record's mapped fields hold what matching reads."""

    email: str = Field(default="email", pattern=_FIELD_NAME)
    website: str = Field(default="website_url", pattern=_FIELD_NAME)
    company: str = Field(default="company", pattern=_FIELD_NAME)


class AccountMatchIn(_Strict):
    """"Assign to the matched company's owner" (``role`` "owner", the default) or to the
    member of its account team in ``role``; with no match, or that rep unavailable, the
    router's model decides."""

    role: str = Field(default="owner", min_length=1, max_length=40)
    name_threshold: float = Field(default=92, ge=50, le=100)
    tie_breakers: list[Literal["most_recently_active", "largest", "owner_available"]] = \
        [t.value for t in TieBreaker]
    fields: LeadFieldsIn = LeadFieldsIn()

    @field_validator("tie_breakers")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a tie-breaker is listed twice")
        return value


class TerritoryFieldsIn(_Strict):
    country: str = Field(default="country", pattern=_FIELD_NAME)
    region: str = Field(default="state", pattern=_FIELD_NAME)
    postcode: str = Field(default="postcode", pattern=_FIELD_NAME)
    industry: str = Field(default="industry", pattern=_FIELD_NAME)
    employees: str = Field(default="num_employees", pattern=_FIELD_NAME)


class TerritorySettingIn(_Strict):
    """``condition``: "none", "in_any" (the record must be in some territory) or
    "in_named" (in one of ``names``); ``action``: the winning territory's rep gets it."""

    condition: Literal["none", "in_any", "in_named"] = "none"
    names: list[str] = Field(default=[], max_length=1000)
    action: bool = False
    fields: TerritoryFieldsIn = TerritoryFieldsIn()

    @field_validator("names")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.strip() or len(name) > 200:
                raise ValueError("each name must be 1 to 200 characters")
        return value

    @model_validator(mode="after")
    def _named(self) -> TerritorySettingIn:
        if self.condition == "in_named" and not self.names:
            raise ValueError("names must list at least one territory when condition is "
                             "'in_named'")
        return self


class FairnessIn(_Strict):
    """What happens when a rep returns from an absence, over a window of ``window_days``;
    ``credits``: a record reassigned away from a rep gives one back."""

    policy: Literal["keep_position", "catch_up"] = "keep_position"
    credits: bool = True
    window_days: int = Field(default=30, ge=1, le=365)
