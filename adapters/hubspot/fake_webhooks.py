"""Send webhook batches the way HubSpot does: a JSON array of events, signed v3 (and v1).

HubSpot batches up to 100 events per request, delivers with up to 10 concurrent requests
per app by default, and signs each request with ``X-HubSpot-Signature-v3`` over
method + target URL + body + ``X-HubSpot-Request-Timestamp``; it also still sends the v1
``X-HubSpot-Signature`` with ``X-HubSpot-Signature-Version: v1``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from adapters.hubspot.signatures import sign_v1, sign_v3

_event_ids = itertools.count(1)
_event_ids_lock = threading.Lock()


def make_event(
    subscription_type: str,
    object_id: int,
    *,
    portal_id: int = 62515,
    app_id: int = 1000,
    subscription_id: int = 1,
    event_id: int | None = None,
    occurred_at: int | None = None,
    attempt_number: int = 0,
    **fields: Any,
) -> dict[str, Any]:
    """One event in HubSpot's payload shape; ``fields`` adds e.g. propertyName/Value."""
    if event_id is None:
        with _event_ids_lock:
            event_id = next(_event_ids)
    return {
        "eventId": event_id,
        "subscriptionId": subscription_id,
        "portalId": portal_id,
        "appId": app_id,
        "occurredAt": occurred_at if occurred_at is not None else int(time.time() * 1000),
        "subscriptionType": subscription_type,
        "attemptNumber": attempt_number,
        "objectId": object_id,
        "changeSource": fields.pop("changeSource", "CRM"),
        **fields,
    }


class WebhookSender:
    """POST signed batches to ``url``; safe to share between threads (a session per thread)."""

    def __init__(
        self,
        url: str,
        client_secret: str,
        *,
        concurrency: int = 10,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._client_secret = client_secret
        self.concurrency = concurrency
        self.timeout = timeout
        self._clock = clock
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"WebhookSender(url={self.url!r})"

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def signed_headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(self._clock() * 1000))
        return {
            "Content-Type": "application/json",
            "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/)",
            "X-HubSpot-Request-Timestamp": timestamp,
            "X-HubSpot-Signature-v3": sign_v3(self._client_secret, "POST", self.url, body,
                                              timestamp),
            "X-HubSpot-Signature": sign_v1(self._client_secret, body),
            "X-HubSpot-Signature-Version": "v1",
        }

    def send(self, events: Sequence[dict[str, Any]]) -> requests.Response:
        """POST one batch (at most 100 events, as HubSpot)."""
        if len(events) > 100:
            raise ValueError("HubSpot sends at most 100 events per request")
        body = json.dumps(list(events), separators=(",", ":")).encode("utf-8")
        return self._session().post(self.url, data=body, headers=self.signed_headers(body),
                                    timeout=self.timeout)

    def send_all(
        self, events: Sequence[dict[str, Any]], batch_size: int = 100
    ) -> list[int]:
        """Split into batches and send them concurrently; returns status codes in order."""
        batches = [events[i:i + batch_size] for i in range(0, len(events), batch_size)]
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            return [r.status_code for r in pool.map(self.send, batches)]
