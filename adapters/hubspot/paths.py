"""Which URL each HubSpot call goes to, by API version.

Since March 2026 HubSpot versions its REST APIs by date: ``/crm/objects/2026-09/contacts``
instead of ``/crm/v3/objects/contacts``. A new version is generally available each March
and September and is supported for 18 months; the numbered paths (v1-v4) stop being
supported in 2027. From ``2026-09`` on, a portal's validation rules (conditionally required
properties, required fields of the record creator) also apply to API writes.

``HUBSPOT_API_VERSION`` picks the version: a date (``2026-09``, the default, the newest
generally available one on 2026-12-02), or ``legacy`` for the numbered paths an existing
app may still be pinned to. Every path the client, the fake and the scope table use comes
from :class:`ApiPaths`, so one setting moves all of them.

* batch read / update / create: ``/crm/objects/{v}/{type}/batch/read|update|create``,
  legacy ``/crm/v3/objects/{type}/batch/...``;
* search: ``/crm/objects/{v}/{type}/search``, legacy ``/crm/v3/objects/{type}/search``;
* owners: ``/crm/owners/{v}``, legacy ``/crm/v3/owners``;
* associations batch read: ``/crm/associations/{v}/{from}/{to}/batch/read``, legacy
  ``/crm/v4/associations/{from}/{to}/batch/read``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEGACY = "legacy"
#: the newest generally available date version (GA on 2026-09-08); 2026-03 is still supported
LATEST = "2026-09"
_DATED = re.compile(r"^\d{4}-(03|09)(-beta)?$")


def parse_api_version(raw: str | None, variable: str = "HUBSPOT_API_VERSION") -> str:
    """``raw`` checked: ``legacy``, or a March/September date version such as ``2026-09``
    (``-beta`` allowed); empty means :data:`LATEST`. Raises ValueError naming ``variable``."""
    value = (raw or "").strip().lower()
    if not value:
        return LATEST
    if value == LEGACY or _DATED.match(value):
        return value
    raise ValueError(f"{variable} must be a HubSpot date version such as {LATEST} "
                     f"(YYYY-03 or YYYY-09) or {LEGACY!r}, got {raw!r}")


@dataclass(frozen=True)
class ApiPaths:
    """The paths of one API version. ``object_type`` is the URL segment (``contacts``,
    ``0-1``, ``2-1234``); the client resolves names first (``client.object_path``)."""

    version: str = LATEST

    def __post_init__(self) -> None:
        if parse_api_version(self.version, "api_version") != self.version:
            raise ValueError(f"api_version must be written as {LATEST!r} or {LEGACY!r}, "
                             f"got {self.version!r}")

    @property
    def legacy(self) -> bool:
        return self.version == LEGACY

    def objects(self, object_type: str) -> str:
        if self.legacy:
            return f"/crm/v3/objects/{object_type}"
        return f"/crm/objects/{self.version}/{object_type}"

    def batch_read(self, object_type: str) -> str:
        return self.objects(object_type) + "/batch/read"

    def batch_update(self, object_type: str) -> str:
        return self.objects(object_type) + "/batch/update"

    def batch_create(self, object_type: str) -> str:
        return self.objects(object_type) + "/batch/create"

    def search(self, object_type: str) -> str:
        return self.objects(object_type) + "/search"

    def owners(self) -> str:
        return "/crm/v3/owners" if self.legacy else f"/crm/owners/{self.version}"

    def associations_batch_read(self, from_type: str, to_type: str) -> str:
        if self.legacy:
            return f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
        return f"/crm/associations/{self.version}/{from_type}/{to_type}/batch/read"
