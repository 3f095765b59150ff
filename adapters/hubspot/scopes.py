"""The OAuth scopes HubSpot requires for the CRM calls the connector makes.

HubSpot's API reference lists, per endpoint, the scope a token must carry; a call without
it is answered 403 with ``category: MISSING_SCOPES``. The connector batch-reads and
batch-updates (``hubspot_owner_id``) contacts, companies, deals and tickets and lists the
owners, so the install asks for the read and write scope of each object type that has a
mapping, and for ``crm.objects.owners.read``. Tickets predate the ``crm.objects.*`` naming:
their scope is ``tickets`` (read and write).

The fake HubSpot enforces the same table on OAuth tokens (:func:`required_scope`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from adapters.hubspot.client import object_path

#: (read scope, write scope) of each CRM object type, by its URL segment.
OBJECT_SCOPES: dict[str, tuple[str, str]] = {
    "contacts": ("crm.objects.contacts.read", "crm.objects.contacts.write"),
    "companies": ("crm.objects.companies.read", "crm.objects.companies.write"),
    "deals": ("crm.objects.deals.read", "crm.objects.deals.write"),
    "tickets": ("tickets", "tickets"),
}
OWNERS_SCOPE = "crm.objects.owners.read"
ALL_SCOPES: tuple[str, ...] = tuple(sorted(
    {s for pair in OBJECT_SCOPES.values() for s in pair} | {OWNERS_SCOPE}))

_OBJECT_CALL = re.compile(r"^/crm/v3/objects/(?P<type>\w+)/(?P<rest>batch/\w+|\d+)$")
_READS = {"batch/read", "search"}


def scopes_for(object_types: Iterable[str]) -> tuple[str, ...]:
    """The scopes an install needs to read and write ``object_types`` (contact, deals,
    0-5, ...) and to look owners up; sorted, without duplicates."""
    wanted = {OWNERS_SCOPE}
    for object_type in object_types:
        wanted.update(OBJECT_SCOPES[object_path(object_type)])
    return tuple(sorted(wanted))


def required_scope(method: str, path: str) -> str | None:
    """The scope HubSpot requires for ``method path`` (None: not a CRM call we know)."""
    if path == "/crm/v3/owners" or path.startswith("/crm/v3/owners/"):
        return OWNERS_SCOPE
    match = _OBJECT_CALL.match(path)
    if match is None or match["type"] not in OBJECT_SCOPES:
        return None
    read, write = OBJECT_SCOPES[match["type"]]
    if method.upper() == "GET" or match["rest"] in _READS:
        return read
    return write
