"""The OAuth scopes HubSpot requires for the CRM calls the connector makes.

HubSpot's API reference lists, per endpoint, the scope a token must carry; a call without
it is answered 403 with ``category: MISSING_SCOPES``. The connector batch-reads and
batch-updates (``hubspot_owner_id``) contacts, companies, deals and tickets and lists the
owners, so the install asks for the read and write scope of each object type that has a
mapping, and for ``crm.objects.owners.read``. Tickets predate the ``crm.objects.*`` naming:
their scope is ``tickets`` (read and write).

The fake HubSpot enforces the same table on OAuth tokens (:func:`required_scope`), at the
legacy and the date-versioned paths alike, with object types named or numbered (``0-1``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from adapters.hubspot.client import object_path
from connector.core.errors import PermanentCrmError

#: (read scope, write scope) of each CRM object type, by its URL segment.
OBJECT_SCOPES: dict[str, tuple[str, str]] = {
    "contacts": ("crm.objects.contacts.read", "crm.objects.contacts.write"),
    "companies": ("crm.objects.companies.read", "crm.objects.companies.write"),
    "deals": ("crm.objects.deals.read", "crm.objects.deals.write"),
    "tickets": ("tickets", "tickets"),
}
#: custom objects (numbered ``2-...``) share one pair of scopes
CUSTOM_SCOPES = ("crm.objects.custom.read", "crm.objects.custom.write")
OWNERS_SCOPE = "crm.objects.owners.read"
ALL_SCOPES: tuple[str, ...] = tuple(sorted(
    {s for pair in OBJECT_SCOPES.values() for s in pair} | {OWNERS_SCOPE}))

#: an object call at the legacy or a dated path (``/crm/objects/2026-09/0-1/batch/read``)
_OBJECT_CALL = re.compile(r"^/crm/(?:v3/objects|objects/[\w-]+)/(?P<type>[\w-]+)/"
                          r"(?P<rest>batch/\w+|\d+|search)$")
_OWNERS = re.compile(r"^/crm/(?:v3/owners|owners/[\w-]+)(?:/.*)?$")
#: associations are read and written with the scopes of the record they start from
_ASSOCIATIONS = re.compile(r"^/crm/(?:v4/associations|associations/[\w-]+)/(?P<type>[\w-]+)/"
                           r"[\w-]+/batch/(?P<rest>\w+)$")
_READS = {"batch/read", "search", "read"}


def scopes_for(object_types: Iterable[str]) -> tuple[str, ...]:
    """The scopes an install needs to read and write ``object_types`` (contact, deals,
    0-5, ...) and to look owners up; sorted, without duplicates."""
    wanted = {OWNERS_SCOPE}
    for object_type in object_types:
        wanted.update(_scopes_of(object_path(object_type)) or ())
    return tuple(sorted(wanted))


def _scopes_of(segment: str) -> tuple[str, str] | None:
    """(read, write) scopes of a URL segment (``contacts``, ``0-1``, ``2-1234``)."""
    try:
        name = object_path(segment)
    except PermanentCrmError:
        return None
    if name in OBJECT_SCOPES:
        return OBJECT_SCOPES[name]
    return CUSTOM_SCOPES if name.startswith("2-") else None


def required_scope(method: str, path: str) -> str | None:
    """The scope HubSpot requires for ``method path`` (None: not a CRM call we know)."""
    if _OWNERS.match(path):
        return OWNERS_SCOPE
    match = _OBJECT_CALL.match(path) or _ASSOCIATIONS.match(path)
    scopes = None if match is None else _scopes_of(match["type"])
    if match is None or scopes is None:
        return None
    read, write = scopes
    if method.upper() == "GET" or match["rest"] in _READS:
        return read
    return write
