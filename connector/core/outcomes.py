"""Every outcome of running a router, with its message exactly as the API documents it."""

from __future__ import annotations

from enum import Enum


class Outcome(Enum):
    ASSIGNED = "The object was successfully assigned"
    ACCOUNT_NOT_FOUND = "Account not found"
    ACCOUNT_INACTIVE = "Account is not active"
    ROUTER_NOT_FOUND = "Router not found"
    ROUTER_UNPUBLISHED = "The router is unpublished"
    ROUTER_NO_SETTINGS = "The router has no settings"
    OBJECT_NOT_FOUND = "Object not found"
    TRIGGER_NOT_MATCHED = "Trigger did not match"
    CANNOT_OVERWRITE = "The router can not overwrite"
    NO_USERS_AVAILABLE = "There are no users available and the backup user is disabled"
    LIMIT_REACHED = "Assignment limit reached"

    @property
    def message(self) -> str:
        return self.value

    @property
    def assigned(self) -> bool:
        return self is Outcome.ASSIGNED
