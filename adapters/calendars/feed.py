"""Fetching a rep's ICS feed: conditional requests, and the last good copy kept when
the feed fails.

A feed URL is the secret address of someone's calendar, so it never appears in an
error message, a log line or an exception this module raises: failures are described
by status code or exception class only. A refresh sends the previous copy's ETag
(``If-None-Match``) and ``Last-Modified`` (``If-Modified-Since``), and a 304 keeps that
copy without downloading the calendar again. A failure of any kind (network, HTTP
status, oversized or unreadable body) returns the last good copy with ``stale`` set and
the reason, so availability keeps working from the copy and the console can say the feed
is failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import requests

from .ics import InvalidFeed, parse_calendar

#: larger than a busy person's multi-year calendar; bounds memory and parsing time
MAX_FEED_BYTES = 5 * 1024 * 1024


class FetchStatus(StrEnum):
    UPDATED = "updated"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"


@dataclass(frozen=True)
class FeedCopy:
    body: bytes
    etag: str | None
    last_modified: str | None
    fetched_at: datetime


@dataclass(frozen=True)
class FetchResult:
    status: FetchStatus
    #: the copy to use now: the new one, or the last good one (None if there never was)
    copy: FeedCopy | None
    error: str | None = None
    checked_at: datetime | None = None

    @property
    def stale(self) -> bool:
        """The feed failed and ``copy`` is an older good copy."""
        return self.status is FetchStatus.FAILED and self.copy is not None


def _clock() -> datetime:
    return datetime.now(UTC)


class FeedFetcher:
    def __init__(self, session: requests.Session | None = None, *, timeout: float = 10.0,
                 max_bytes: int = MAX_FEED_BYTES,
                 clock: Callable[[], datetime] = _clock) -> None:
        self._session = session or requests.Session()
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._clock = clock

    def fetch(self, url: str, last_good: FeedCopy | None = None) -> FetchResult:
        now = self._clock()
        if url.lower().startswith("webcal://"):
            url = "https://" + url[len("webcal://"):]
        if not url.lower().startswith(("https://", "http://")):
            return FetchResult(FetchStatus.FAILED, last_good,
                               "the feed address must start with https://, http:// or "
                               "webcal://", now)
        headers = {"Accept": "text/calendar"}
        if last_good is not None and last_good.etag:
            headers["If-None-Match"] = last_good.etag
        if last_good is not None and last_good.last_modified:
            headers["If-Modified-Since"] = last_good.last_modified
        try:
            with self._session.get(url, headers=headers, timeout=self._timeout,
                                   stream=True, allow_redirects=True) as response:
                if response.status_code == 304 and last_good is not None:
                    return FetchResult(FetchStatus.NOT_MODIFIED, last_good, None, now)
                if response.status_code != 200:
                    return FetchResult(FetchStatus.FAILED, last_good,
                                       f"the feed answered HTTP {response.status_code}", now)
                body = self._read(response)
        except requests.RequestException as exc:
            # the exception's text holds the URL: name the kind of failure only
            return FetchResult(FetchStatus.FAILED, last_good,
                               f"the feed could not be fetched ({type(exc).__name__})", now)
        if body is None:
            return FetchResult(FetchStatus.FAILED, last_good,
                               f"the feed is larger than {self._max_bytes} bytes", now)
        try:
            parse_calendar(body)
        except InvalidFeed as exc:
            return FetchResult(FetchStatus.FAILED, last_good, f"the feed is {exc}", now)
        copy = FeedCopy(body, response.headers.get("ETag"),
                        response.headers.get("Last-Modified"), now)
        return FetchResult(FetchStatus.UPDATED, copy, None, now)

    def _read(self, response: requests.Response) -> bytes | None:
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > self._max_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)
