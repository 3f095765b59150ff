"""Which HubSpot webhook subscriptions the published routers need.

For every object type HubSpot can send (contact, company, deal, ticket) that has a
published router with a mapping: ``<type>.creation`` when a router starts on creation,
``<type>.propertyChange`` of each watched property when one starts on change, and the
lifecycle events that keep the mirror right (deletion, restore, merge, and
``contact.privacyDeletion``); for a router with an SLA monitor, ``propertyChange`` of
the properties that say a rep touched the record; and a router with a match action
(``account_match``) also needs the companies kept current. Subscriptions apply to the
app, so every account counts.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from connector.mapping import MappingError
from connector.service.sla import HUBSPOT_SIGNALS
from connector.store.db import Database
from connector.store.models import RouterRow, SlaMonitorRow

log = logging.getLogger(__name__)

HUBSPOT_OBJECTS = ("contact", "company", "deal", "ticket")
LIFECYCLE = ("deletion", "restore", "merge")
#: the company properties matching reads (name, domain) and its owner
COMPANY_PROPERTIES = ("name", "domain", "hubspot_owner_id")

Key = tuple[str, str | None]


def wanted_subscriptions(db: Database, mappings: Any) -> tuple[set[Key], list[str]]:
    """The (eventType, propertyName) pairs needed, and warnings worth showing."""
    wanted: set[Key] = set()
    warnings: list[str] = []
    with db.session() as session:
        routers = [(r.name, r.object_type, dict(r.settings or {}), r.account_id)
                   for r in session.scalars(select(RouterRow)
                                            .where(RouterRow.published.is_(True)))]
        watched = set(session.scalars(select(RouterRow.object_type).join(
            SlaMonitorRow, SlaMonitorRow.router_id == RouterRow.id).where(
            SlaMonitorRow.active.is_(True))))
    for object_type in watched & set(HUBSPOT_OBJECTS):  # the SLA monitors' touch signals
        wanted.update((f"{object_type}.propertyChange", prop)
                      for prop in HUBSPOT_SIGNALS.get(object_type, {}))
    for name, object_type, settings, account_id in routers:
        if settings.get("account_match"):
            # leads are matched against the mirrored companies: keep them current
            wanted.add(("company.creation", None))
            wanted.update(("company.propertyChange", p) for p in COMPANY_PROPERTIES)
            wanted.update((f"company.{action}", None) for action in LIFECYCLE)
        if object_type not in HUBSPOT_OBJECTS:
            continue
        try:
            mappings.get("hubspot", object_type, account_id)
        except MappingError as exc:
            warnings.append(f"router {name!r}: no HubSpot mapping for {object_type} ({exc})")
            continue
        start_on = settings.get("start_on") or ["creation"]
        if "creation" in start_on:
            wanted.add((f"{object_type}.creation", None))
        if "change" in start_on:
            for prop in settings.get("watch_properties") or []:
                wanted.add((f"{object_type}.propertyChange", prop))
        wanted.update((f"{object_type}.{action}", None) for action in LIFECYCLE)
        if object_type == "contact":
            wanted.add(("contact.privacyDeletion", None))
    return wanted, warnings


def describe(change: Any) -> str:
    sign = {"create": "+", "activate": "~", "deactivate": "-", "delete": "x"}[change.action]
    prop = f" [{change.property_name}]" if change.property_name else ""
    ident = f" (id {change.subscription_id})" if change.subscription_id else ""
    return f"{sign} {change.action:<10} {change.event_type}{prop}{ident}"
