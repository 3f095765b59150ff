"""Keep a public app's webhook subscriptions in the state the connector needs.

The webhooks API (``/webhooks/v3/{appId}/subscriptions``; SDK:
``client.webhooks.subscriptions_api``) is authenticated with the app's developer API key
in the ``hapikey`` query parameter, not with a portal token, and applies to every portal
that installed the app. :func:`plan_subscriptions` is pure so the difference between what we
want and what exists can be shown (dry run) before :meth:`SubscriptionsClient.apply` runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import requests

from adapters.hubspot.transport import DEFAULT_API_BASE, RetryPolicy, Transport

Key = tuple[str, str | None]  # (eventType, propertyName or None)


@dataclass(frozen=True)
class Subscription:
    id: str
    event_type: str
    property_name: str | None
    active: bool

    @property
    def key(self) -> Key:
        return (self.event_type, self.property_name or None)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Subscription:
        return cls(id=str(data["id"]), event_type=data["eventType"],
                   property_name=data.get("propertyName") or None,
                   active=bool(data.get("active", False)))


@dataclass(frozen=True)
class Change:
    action: Literal["create", "activate", "deactivate", "delete"]
    event_type: str
    property_name: str | None = None
    subscription_id: str | None = None


def plan_subscriptions(
    wanted: Iterable[Key], existing: Sequence[Subscription], *, delete_unwanted: bool = False
) -> list[Change]:
    """The changes that make ``existing`` match ``wanted``.

    Missing -> create; present but paused -> activate; duplicates of one key -> delete the
    extras (keeping an active one); not wanted and active -> deactivate, or delete when
    ``delete_unwanted`` (deactivating is the default because it can be undone).
    """
    wanted_keys = {(e, p or None) for e, p in wanted}
    by_key: dict[Key, list[Subscription]] = {}
    for sub in existing:
        by_key.setdefault(sub.key, []).append(sub)
    changes: list[Change] = []
    for key in sorted(wanted_keys, key=lambda k: (k[0], k[1] or "")):
        subs = sorted(by_key.get(key, []), key=lambda s: not s.active)
        if not subs:
            changes.append(Change("create", key[0], key[1]))
            continue
        keep, extras = subs[0], subs[1:]
        if not keep.active:
            changes.append(Change("activate", key[0], key[1], keep.id))
        changes.extend(Change("delete", s.event_type, s.property_name, s.id) for s in extras)
    for key in sorted(set(by_key) - wanted_keys, key=lambda k: (k[0], k[1] or "")):
        for sub in by_key[key]:
            if delete_unwanted:
                changes.append(Change("delete", sub.event_type, sub.property_name, sub.id))
            elif sub.active:
                changes.append(Change("deactivate", sub.event_type, sub.property_name, sub.id))
    return changes


class SubscriptionsClient:
    """CRUD on one app's webhook subscriptions, authenticated by the developer API key."""

    def __init__(
        self,
        app_id: int | str,
        developer_api_key: str,
        *,
        base_url: str = DEFAULT_API_BASE,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.app_id = str(app_id)
        self.transport = Transport(
            base_url=base_url, session=session, retry=retry,
            default_params={"hapikey": developer_api_key},
        )
        self._path = f"/webhooks/v3/{self.app_id}/subscriptions"

    def __repr__(self) -> str:
        return f"SubscriptionsClient(app_id={self.app_id!r}, <key hidden>)"

    def list(self) -> list[Subscription]:
        data = self.transport.request("GET", self._path).json()
        return [Subscription.from_api(s) for s in data.get("results", [])]

    def create(self, event_type: str, property_name: str | None = None,
               active: bool = True) -> Subscription:
        body: dict[str, Any] = {"eventType": event_type, "active": active}
        if property_name:
            body["propertyName"] = property_name
        return Subscription.from_api(self.transport.request("POST", self._path, json=body).json())

    def set_active(self, subscription_id: str, active: bool) -> Subscription:
        resp = self.transport.request(
            "PATCH", f"{self._path}/{subscription_id}", json={"active": active})
        return Subscription.from_api(resp.json())

    def delete(self, subscription_id: str) -> None:
        self.transport.request("DELETE", f"{self._path}/{subscription_id}")

    def apply(self, plan: Sequence[Change]) -> list[Change]:
        """Run the plan in order; returns the changes applied (all, or raises CrmError)."""
        done: list[Change] = []
        for change in plan:
            if change.action == "create":
                self.create(change.event_type, change.property_name)
            elif change.action in ("activate", "deactivate"):
                assert change.subscription_id is not None
                self.set_active(change.subscription_id, change.action == "activate")
            else:
                assert change.subscription_id is not None
                self.delete(change.subscription_id)
            done.append(change)
        return done

    def sync(self, wanted: Iterable[Key], *, delete_unwanted: bool = False) -> list[Change]:
        """Plan against the live list and apply; returns what changed."""
        return self.apply(plan_subscriptions(wanted, self.list(),
                                             delete_unwanted=delete_unwanted))
