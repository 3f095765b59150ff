"""HubSpot CRM client implementing the connector's RecordReader, OwnerDirectory, OwnerWriter.

Endpoints (the SDK method each corresponds to, for readers who know ``hubspot-api-client``),
at the paths of the configured API version (:mod:`adapters.hubspot.paths`; shown here for
``2026-09``, ``legacy`` keeps ``/crm/v3`` and ``/crm/v4``):

* ``POST /crm/objects/2026-09/{type}/batch/read``   ~ ``client.crm.objects.batch_api.read``
* ``POST /crm/objects/2026-09/{type}/batch/update`` ~ ``client.crm.objects.batch_api.update``
* ``GET /crm/owners/2026-09``                        ~ ``client.crm.owners.owners_api.get_page``
* ``POST /crm/associations/2026-09/{from}/{to}/batch/read``
  ~ ``client.crm.associations.v4.batch_api.get_page``
* ``POST /crm/objects/2026-09/contacts/search``     ~ ``client.crm.contacts.search_api.do_search``
* ``POST /crm/objects/2026-09/contacts/batch/create``
  ~ ``client.crm.contacts.batch_api.create``

The calls go through :class:`adapters.hubspot.transport.Transport` over a passed-in
``requests.Session`` rather than the SDK: the SDK's urllib3 retries skip POST, and its
generated models collapse a 207 multi-status answer into one object whose per-record errors
we would have to re-parse anyway. The JSON shapes are the same ones the SDK sends.

Batches hold at most 100 inputs (HubSpot rejects more with a 400). A batch update answers
200 (all done), 207 (``errors[].context.ids`` name the records that failed) or 400 for the
whole batch when one input is invalid; on a 400 we bisect the batch so one bad record
cannot fail 99 good ones. A portal validation rule (enforced on writes from ``2026-09``) that
refuses one record's write fails that record, with HubSpot's message, in either shape.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import requests

from adapters.hubspot.auth import TokenProvider
from adapters.hubspot.budget import CallBudget, SlidingWindowBudget
from adapters.hubspot.paths import LATEST, ApiPaths
from adapters.hubspot.transport import (
    DEFAULT_API_BASE,
    RetryPolicy,
    Transport,
    error_message,
)
from connector.core.errors import AuthenticationFailed, CrmError, PermanentCrmError
from connector.core.ports import OwnerWrite, WriteResult

BATCH_LIMIT = 100
OWNER_PROPERTY = "hubspot_owner_id"
OWNERS_PAGE_SIZE = 100
#: the error HubSpot names in a 400 VALIDATION_ERROR for an owner id it does not know
INVALID_OWNER = "INVALID_OWNER_ID"

_OBJECT_PATHS = {
    "contact": "contacts", "contacts": "contacts", "0-1": "contacts",
    "company": "companies", "companies": "companies", "0-2": "companies",
    "deal": "deals", "deals": "deals", "0-3": "deals",
    "ticket": "tickets", "tickets": "tickets", "0-5": "tickets",
}
_RETRYABLE_CATEGORIES = {"RATE_LIMITS", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"}
#: a custom object's numbered type (``2-1234``); the standard ones are in _OBJECT_PATHS
_CUSTOM_TYPE_ID = re.compile(r"^2-\d+$")
_EXISTING_ID = re.compile(r"Existing ID: (\d+)")
#: HubSpot's CRM search endpoints: five requests a second per account, below the burst limit
SEARCH_CALLS_PER_SECOND = 5
ASSOCIATIONS_BATCH_LIMIT = 1000


def object_path(object_type: str) -> str:
    """The URL segment for contact/company/deal/ticket (singular, plural or type id ``0-1``);
    a custom object's numbered type (``2-1234``) is passed through as it is."""
    key = object_type.strip().lower()
    if key in _OBJECT_PATHS:
        return _OBJECT_PATHS[key]
    if _CUSTOM_TYPE_ID.match(key):
        return key
    raise PermanentCrmError(f"unsupported HubSpot object type {object_type!r}")


def chunks(items: Sequence[Any], size: int = BATCH_LIMIT) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class OwnersEpoch:
    """Shared by the clients of one portal (the API's and the workers'): when one of them
    learns that HubSpot refuses an owner id, the others reload their owners too."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.value += 1


class HubSpotClient:
    """One portal's CRM access. Thread-safe; ``calls`` counts HTTP attempts (benchmarks)."""

    def __init__(
        self,
        token_provider: TokenProvider,
        *,
        base_url: str = DEFAULT_API_BASE,
        api_version: str = LATEST,
        session: requests.Session | None = None,
        budget: CallBudget | None = None,
        search_budget: CallBudget | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        owners_min_refresh_interval: float = 60.0,
        owners_ttl: float = 600.0,
        owners_epoch: OwnersEpoch | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = Transport(
            token_provider=token_provider, base_url=base_url, session=session,
            budget=budget or SlidingWindowBudget(), retry=retry, timeout=timeout, sleep=sleep,
        )
        self.paths = ApiPaths(api_version)
        self.search_budget = search_budget or SlidingWindowBudget(SEARCH_CALLS_PER_SECOND, 1.0)
        self.owners_min_refresh_interval = owners_min_refresh_interval
        self.owners_ttl = owners_ttl
        self._clock = clock
        self._owners: dict[str, str] = {}
        self._owners_loaded_at: float | None = None
        self._owners_lock = threading.Lock()
        self._owners_epoch = owners_epoch or OwnersEpoch()
        self._seen_epoch = self._owners_epoch.value

    def __repr__(self) -> str:
        return (f"HubSpotClient(base_url={self.transport.base_url!r}, "
                f"api_version={self.paths.version!r})")

    def time_limit(self, seconds: float | None = None):
        """A context in which this thread's calls share one deadline (see Transport)."""
        return self.transport.time_limit(seconds)

    @property
    def calls(self) -> int:
        return self.transport.calls

    # RecordReader -------------------------------------------------------------------------

    def read_records(
        self, object_type: str, ids: Sequence[str], properties: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Batch-read records (100 per call); ids HubSpot does not know are absent."""
        path = self.paths.batch_read(object_path(object_type))
        props = list(dict.fromkeys([*properties, OWNER_PROPERTY]))
        unique_ids = list(dict.fromkeys(str(i) for i in ids))
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(unique_ids):
            body = {"properties": props, "propertiesWithHistory": [],
                    "inputs": [{"id": i} for i in part]}
            data = self.transport.request("POST", path, json=body).json()
            for result in data.get("results", []):
                found[str(result["id"])] = dict(result.get("properties") or {})
        return found

    # OwnerDirectory -----------------------------------------------------------------------

    def list_owners(self) -> list[dict[str, Any]]:
        """Every active owner, following ``paging.next.after``."""
        owners: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": OWNERS_PAGE_SIZE, "archived": "false"}
            if after:
                params["after"] = after
            data = self.transport.request("GET", self.paths.owners(), params=params).json()
            owners.extend(data.get("results", []))
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return owners

    def read_associations(
        self, from_type: str, ids: Sequence[str], to_type: str
    ) -> dict[str, list[str]]:
        """The ids of the ``to_type`` records associated with each of ``ids`` (1,000 per
        call, following ``paging.next.after`` within a result); ids without any are absent."""
        path = self.paths.associations_batch_read(object_path(from_type), object_path(to_type))
        found: dict[str, list[str]] = {}
        for part in chunks(list(dict.fromkeys(str(i) for i in ids)), ASSOCIATIONS_BATCH_LIMIT):
            inputs: list[dict[str, Any]] = [{"id": i} for i in part]
            while inputs:
                data = self.transport.request("POST", path, json={"inputs": inputs}).json()
                inputs = []
                for result in data.get("results", []):
                    from_id = str((result.get("from") or {}).get("id"))
                    found.setdefault(from_id, []).extend(
                        str(to["toObjectId"]) for to in result.get("to", []))
                    after = ((result.get("paging") or {}).get("next") or {}).get("after")
                    if after:
                        inputs.append({"id": from_id, "after": after})
        return found

    # Contacts found or made for a lead ------------------------------------------------------

    def find_contact_by_email(self, email: str) -> str | None:
        """The id of the contact with ``email`` (CRM search, ``EQ`` on ``email``), or None.
        Search calls have their own, lower limit; they wait on :attr:`search_budget` first.
        A contact created seconds ago may not be searchable yet: :meth:`create_contact`
        turns HubSpot's "already exists" into that contact's id."""
        body = {"filterGroups": [{"filters": [
                    {"propertyName": "email", "operator": "EQ", "value": email.strip()}]}],
                "properties": ["email", OWNER_PROPERTY], "limit": 1}
        self.search_budget.acquire(max_wait=1.0)  # a slot frees within the 1 s window
        data = self.transport.request("POST", self.paths.search("contacts"), json=body).json()
        results = data.get("results") or []
        return str(results[0]["id"]) if results else None

    def create_contact(self, properties: dict[str, str]) -> tuple[str, bool]:
        """Create one contact (batch create, so the owner is set in the same call);
        ``(id, created)``: a contact with that email already existing (HubSpot's 409) gives
        its id and False. A portal validation rule's refusal raises PermanentCrmError
        naming the property it requires."""
        body = {"inputs": [{"properties": properties, "associations": []}]}
        try:
            resp = self.transport.request("POST", self.paths.batch_create("contacts"),
                                          json=body)
        except PermanentCrmError as exc:
            existing = _EXISTING_ID.search(str(exc)) if exc.status == 409 else None
            if existing is None:
                raise
            return existing.group(1), False
        return str(resp.json()["results"][0]["id"]), True

    def refresh_owners(self) -> None:
        """Reload the email -> owner id map. Only ``PERSON`` owners are reps: a ``QUEUE``
        owner can carry an email too (owners listed without a ``type`` count as people)."""
        owners = self.list_owners()
        mapping = {str(o["email"]).lower(): str(o["id"]) for o in owners
                   if o.get("email") and (o.get("type") or "PERSON") == "PERSON"}
        self._owners = mapping
        self._owners_loaded_at = self._clock()

    def owner_id_for_email(self, email: str) -> str | None:
        """Cached lookup. The cache is reloaded once it is ``owners_ttl`` old (a user
        removed and re-created in HubSpot gets a new owner id), and on a miss unless it
        was loaded very recently."""
        key = email.strip().lower()
        with self._owners_lock:
            if self._owners_epoch.value != self._seen_epoch:  # another client was refused
                self._seen_epoch = self._owners_epoch.value
                self._owners, self._owners_loaded_at = {}, None
            loaded = self._owners_loaded_at
            age = None if loaded is None else self._clock() - loaded
            if age is not None and age >= self.owners_ttl:
                self.refresh_owners()
            elif key in self._owners:
                return self._owners[key]
            elif age is None or age >= self.owners_min_refresh_interval:
                self.refresh_owners()
            return self._owners.get(key)

    def forget_owner_id(self, owner_id: str) -> None:
        """HubSpot refused ``owner_id``: drop it, and reload on the next lookup (here and
        in the portal's other clients)."""
        with self._owners_lock:
            self._owners = {e: o for e, o in self._owners.items() if o != str(owner_id)}
            self._owners_loaded_at = None
        self._owners_epoch.bump()

    # OwnerWriter --------------------------------------------------------------------------

    def write_owners(self, writes: Sequence[OwnerWrite]) -> list[WriteResult]:
        """Batch-update ``hubspot_owner_id``; one WriteResult per input, in input order.

        A record written twice in one call keeps the last owner (HubSpot refuses duplicate
        ids in a batch). A batch call that fails after retries turns into failed results
        for its records; only when every batch failed is the error raised, and an
        authentication failure is always raised (nothing else can succeed).
        """
        latest: dict[tuple[str, str], str] = {}
        for w in writes:
            latest[(object_path(w.object_type), str(w.record_id))] = str(w.owner_id)
        by_type: dict[str, list[tuple[str, str]]] = {}
        for (path, rid), owner in latest.items():
            by_type.setdefault(path, []).append((rid, owner))

        outcome: dict[tuple[str, str], WriteResult] = {}
        last_error: CrmError | None = None
        any_call_ok = False
        for path, items in by_type.items():
            for part in chunks(items):
                try:
                    results = self._update_batch(path, list(part))
                    any_call_ok = True
                except AuthenticationFailed:
                    raise
                except CrmError as exc:
                    last_error = exc
                    results = [WriteResult(rid, False, str(exc), exc.retryable)
                               for rid, _ in part]
                for res in results:
                    outcome[(path, res.record_id)] = res
        if last_error is not None and not any_call_ok:
            raise last_error
        return [outcome[(object_path(w.object_type), str(w.record_id))] for w in writes]

    def _update_batch(self, path: str, items: list[tuple[str, str]]) -> list[WriteResult]:
        body = {"inputs": [{"id": rid, "properties": {OWNER_PROPERTY: owner}}
                           for rid, owner in items]}
        try:
            resp = self.transport.request("POST", self.paths.batch_update(path), json=body)
        except PermanentCrmError as exc:
            if exc.status != 400:
                raise
            if len(items) == 1:
                if INVALID_OWNER in str(exc):  # e.g. the user was removed and re-created:
                    self.forget_owner_id(items[0][1])  # the retry looks the owner up again
                    return [WriteResult(items[0][0], False, str(exc), True)]
                return [WriteResult(items[0][0], False, str(exc), False)]
            mid = len(items) // 2
            return self._update_batch(path, items[:mid]) + self._update_batch(path, items[mid:])
        data = resp.json() if resp.content else {}
        done = {str(r.get("id")) for r in data.get("results", [])}
        failed: dict[str, WriteResult] = {}
        for err in data.get("errors", []):
            category = err.get("category")
            retryable = category in _RETRYABLE_CATEGORIES or str(err.get("status")) in {
                "429", "500", "502", "503", "504"}
            message = batch_error_message(err)
            ids = (err.get("context") or {}).get("ids") or ([err["id"]] if err.get("id") else [])
            for rid in ids:
                failed[str(rid)] = WriteResult(str(rid), False, message, retryable)
        results = []
        for rid, _ in items:
            if rid in failed:
                results.append(failed[rid])
            elif rid in done or (resp.status_code == 200 and not data.get("errors")):
                results.append(WriteResult(rid, True))
            else:
                results.append(WriteResult(rid, False, "not confirmed by HubSpot", True))
        return results


def batch_error_message(err: dict[str, Any]) -> str:
    """One 207 error as a message: its category and HubSpot's message, with the messages of
    its nested ``errors`` (a validation rule names the property it requires there)."""
    message = error_message(err)
    category = err.get("category")
    return (f"{category}: {message}" if category else message)[:500]
