"""Salesforce records through simple-salesforce: owner directory (SOQL) and OwnerId
write-back (sObject Collections).

* Users by email and queues by developer name are looked up with SOQL and cached; a miss
  is asked again after ``miss_ttl`` seconds, so a user created later is found.
* ``PATCH /composite/sobjects`` updates up to 200 distinct records per call with
  ``allOrNone: false`` (a record given twice is sent once, with the last owner given):
  Salesforce answers one result per record, in order, and each failed record becomes a
  failed :class:`WriteResult` without failing the others.
* A ``/v1`` lead is looked up as an unconverted Lead by email (SOQL, not cached: a miss
  is followed by a create) and created with ``POST /composite/sobjects``, OwnerId set and
  ``Sforce-Auto-Assign: FALSE``, so one call makes it with its owner.
* :meth:`time_limit` bounds every call a thread makes inside it, retries included, by one
  deadline (an API request waiting on Salesforce).
* ``Sforce-Limit-Info`` (``api-usage=used/limit``) is kept in :attr:`api_usage`;
  ``403 REQUEST_LIMIT_EXCEEDED`` is retried with a long backoff, then surfaces.
* An expired session renews the JWT bearer token once and tries again.
* Every write of OwnerId sends ``Sforce-Auto-Assign: FALSE``: without it, an org's active
  Lead or Case assignment rule runs in the same call and reassigns the record, so the
  owner we wrote would not stick.

simple-salesforce builds ``https://`` URLs from the instance URL; the client keeps the
instance URL's own scheme so the local fake (plain HTTP on 127.0.0.1) works the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from adapters.common.budget import CallBudget, UnlimitedBudget
from adapters.common.deadline import ThreadDeadline
from connector.core.errors import PermanentCrmError, TransientCrmError
from connector.core.ports import OwnerWrite, WriteResult

from .auth import JwtBearerAuth
from .errors import RETRYABLE_RECORD_ERRORS, rest_error
from .retry import RetryPolicy, call_with_retries, renewing

log = logging.getLogger(__name__)

API_VERSION = "61.0"
#: the header that keeps the org's assignment rules from overriding the OwnerId we write
NO_AUTO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}
BATCH_LIMIT = 200
SOBJECT_TYPES = {"lead": "Lead", "contact": "Contact", "case": "Case"}
LEAD_BY_EMAIL = ("SELECT Id, OwnerId FROM Lead WHERE Email = {} AND IsConverted = false "
                 "ORDER BY CreatedDate LIMIT 1")


def soql_quote(value: str) -> str:
    """A SOQL string literal; backslash and quote escaped as SOQL requires."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def unique_writes(writes: Sequence[OwnerWrite]) -> list[OwnerWrite]:
    """One write per record, the last one given winning: Salesforce refuses a record id
    that appears twice in one sObject Collections request."""
    last: dict[str, OwnerWrite] = {}
    for write in writes:
        last.pop(write.record_id[:15], None)
        last[write.record_id[:15]] = write
    return list(last.values())


class SalesforceRecords:
    """Implements OwnerDirectory, QueueDirectory and OwnerWriter."""

    def __init__(
        self,
        auth: JwtBearerAuth,
        *,
        session: requests.Session | None = None,
        version: str = API_VERSION,
        retry: RetryPolicy | None = None,
        cache_ttl: float = 3600.0,
        miss_ttl: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        budget: CallBudget | None = None,
    ) -> None:
        self._auth = auth
        self._session = session or requests.Session()
        self.version = version
        self.retry = retry or RetryPolicy()
        self.cache_ttl, self.miss_ttl = cache_ttl, miss_ttl
        self._sleep = sleep
        #: calls per org per window, shared by every worker when it lives in Redis
        self._budget = budget or UnlimitedBudget()
        self._lock = threading.Lock()
        self._deadline = ThreadDeadline()
        self._sf: Salesforce | None = None
        self._sf_token: str | None = None
        self._cache: dict[tuple[str, str], tuple[str | None, float]] = {}
        self.api_usage: tuple[int, int] | None = None
        self.calls = 0

    def __repr__(self) -> str:
        return f"SalesforceRecords(version={self.version!r})"

    # OwnerDirectory / QueueDirectory ----------------------------------------------------------
    def owner_id_for_email(self, email: str) -> str | None:
        email = email.strip().lower()
        return self._lookup("user", email,
                            "SELECT Id FROM User WHERE IsActive = true AND Email = "
                            f"{soql_quote(email)} ORDER BY CreatedDate LIMIT 1")

    def queue_id(self, developer_name: str) -> str | None:
        return self._lookup("queue", developer_name,
                            "SELECT Id FROM Group WHERE Type = 'Queue' AND DeveloperName = "
                            f"{soql_quote(developer_name)} LIMIT 1")

    def _lookup(self, kind: str, key: str, soql: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get((kind, key))
        if hit is not None and hit[1] > now:
            return hit[0]
        data = self._call("query", lambda sf: sf.query(soql, **self._timeout()))
        records = (data or {}).get("records") or []
        found = records[0].get("Id") if records else None
        ttl = self.cache_ttl if found else self.miss_ttl
        with self._lock:
            self._cache[(kind, key)] = (found, now + ttl)
        return found

    # Leads of the /v1 API ----------------------------------------------------------------------
    def find_lead_by_email(self, email: str) -> str | None:
        """The oldest unconverted Lead with ``email``, or None."""
        soql = LEAD_BY_EMAIL.format(soql_quote(email.strip().lower()))
        data = self._call("query", lambda sf: sf.query(soql, **self._timeout()))
        records = (data or {}).get("records") or []
        return records[0].get("Id") if records else None

    def create_lead(self, fields: dict[str, Any]) -> str:
        """Create one Lead (sObject Collections, so ``OwnerId`` sticks); its id. A refused
        record raises the error Salesforce names for it (``REQUIRED_FIELD_MISSING: ...``)."""
        body = {"allOrNone": True, "records": [{"attributes": {"type": "Lead"}, **fields}]}
        answer = self._call("composite/sobjects",
                            lambda sf: sf.restful("composite/sobjects", method="POST",
                                                  json=body, headers=NO_AUTO_ASSIGN,
                                                  **self._timeout())) or [{}]
        item = answer[0]
        if item.get("success") and item.get("id"):
            return str(item["id"])
        errors = item.get("errors") or [{}]
        code = str(errors[0].get("statusCode") or "UNKNOWN")
        text = "; ".join(str(e.get("message") or "") for e in errors).strip("; ")
        error = TransientCrmError if code in RETRYABLE_RECORD_ERRORS else PermanentCrmError
        raise error(f"{code}: {text}")

    def _timeout(self) -> dict[str, float]:
        """Inside :meth:`time_limit`, the HTTP timeout of one request: what is left."""
        deadline = self._deadline.value
        return {} if deadline is None else {"timeout": max(0.1, deadline - time.monotonic())}

    @contextmanager
    def time_limit(self, seconds: float) -> Iterator[None]:
        """Every call this thread makes inside the block, retries included, ends its
        retrying ``seconds`` from now (nested blocks keep the earlier deadline)."""
        with self._deadline.within(seconds):
            yield

    # OwnerWriter ------------------------------------------------------------------------------
    def write_owners(self, writes: Sequence[OwnerWrite]) -> list[WriteResult]:
        """One result per distinct record id (a record given twice is written once, with
        its last owner)."""
        writes = unique_writes(writes)
        results: list[WriteResult] = []
        for start in range(0, len(writes), BATCH_LIMIT):
            results.extend(self._write_batch(writes[start:start + BATCH_LIMIT]))
        return results

    def _write_batch(self, batch: Sequence[OwnerWrite]) -> list[WriteResult]:
        records = [{"attributes": {"type": SOBJECT_TYPES.get(w.object_type, w.object_type)},
                    "id": w.record_id, "OwnerId": w.owner_id} for w in batch]
        body = {"allOrNone": False, "records": records}
        answer = self._call("composite/sobjects",
                            lambda sf: sf.restful("composite/sobjects", method="PATCH",
                                                  json=body, headers=NO_AUTO_ASSIGN,
                                                  **self._timeout())) or []
        results = []
        for write, item in zip(batch, answer, strict=False):
            if item.get("success"):
                results.append(WriteResult(write.record_id, True))
                continue
            errors = item.get("errors") or [{}]
            code = str(errors[0].get("statusCode") or "UNKNOWN")
            text = "; ".join(str(e.get("message") or "") for e in errors).strip("; ")
            results.append(WriteResult(write.record_id, False, error=f"{code}: {text}",
                                       retryable=code in RETRYABLE_RECORD_ERRORS))
        for write in batch[len(answer):]:
            results.append(WriteResult(write.record_id, False, retryable=True,
                                       error="Salesforce returned no result for this record"))
        return results

    # plumbing ---------------------------------------------------------------------------------
    def _client(self) -> tuple[Salesforce, str]:
        """The simple-salesforce client for the current token, and that token."""
        token = self._auth.token()
        with self._lock:
            if self._sf is None or self._sf_token != token.value:
                sf = Salesforce(instance_url=token.instance_url, session_id=token.value,
                                session=self._session, version=self.version)
                sf.base_url = f"{token.instance_url}/services/data/v{self.version}/"
                self._sf, self._sf_token = sf, token.value
            return self._sf, token.value

    def _call(self, operation: str, fn: Callable[[Salesforce], Any]) -> Any:
        def attempt() -> Any:
            sent: list[str] = []  # the token this attempt used (another thread may have
            # replaced the shared client's already): renewing it logs in once for all

            return renewing(lambda: self._attempt(operation, fn, sent),
                            lambda: self._auth.renew(sent[0] if sent else None))

        return call_with_retries(attempt, self.retry, sleep=self._sleep,
                                 deadline=self._deadline.value)

    def _attempt(self, operation: str, fn: Callable[[Salesforce], Any],
                 sent: list[str]) -> Any:
        sf, token = self._client()
        sent[:] = [token]
        self._budget.acquire()
        self.calls += 1
        try:
            result = fn(sf)
        except SalesforceError as exc:
            raise rest_error(exc.status, exc.content, operation) from None
        except requests.Timeout:
            raise TransientCrmError(f"Salesforce {operation} timed out") from None
        except requests.ConnectionError:
            raise TransientCrmError(f"Salesforce {operation}: connection failed") from None
        self._track_usage(sf)
        return result

    def _track_usage(self, sf: Salesforce) -> None:
        usage = (sf.api_usage or {}).get("api-usage")
        if usage is None:
            return
        self.api_usage = (int(usage.used), int(usage.total))
        if usage.total and usage.used >= 0.9 * usage.total:
            log.warning("Salesforce API usage at %s of %s requests", usage.used, usage.total)

