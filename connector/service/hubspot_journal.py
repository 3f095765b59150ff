"""Poll HubSpot's webhooks journal into the inbox (``CONNECTOR_HUBSPOT_INGEST=journal|both``).

One round reads batches of journal entries after the stored offset until it is caught
up. Each entry's events go through the same parsing and the same inbox insert as a webhook
delivery (:func:`connector.service.hubspot_processing.store_inbound`), so an event that
also came by webhook is stored once and routed once. The offset advances only after a
batch's events are committed, and only from the offset this round started at (two pollers
racing cannot move it backwards); a crash in between re-reads the batch, and the inbox
drops what it already has.

An offset HubSpot no longer keeps (the journal holds 3 days) means events were lost
between it and the oldest entry still kept: that gap is logged as an error, counted in
``connector_hubspot_journal_gaps`` and shown in the console, and reading goes on from the
oldest entry. Errors back off exponentially (tenacity) within a round; a round that still
fails leaves the offset where it was for the next one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import tenacity
from sqlalchemy import update

from connector.core.errors import CrmError
from connector.metrics import JOURNAL_EVENTS, JOURNAL_GAPS, JOURNAL_READS
from connector.service.hubspot_processing import store_inbound
from connector.store.models import HubSpotJournalOffsetRow

log = logging.getLogger(__name__)

#: the error code of a journal offset HubSpot no longer keeps (the journal client's)
OFFSET_EXPIRED = "OFFSET_EXPIRED"
#: events handed to the webhook parser at once (a webhook batch holds at most 100)
PARSE_CHUNK = 100


@dataclass
class PollResult:
    entries: int = 0
    events: int = 0
    stored: int = 0  # new inbox rows (the rest were there already)
    reads: int = 0  # journal API calls
    gap: str | None = None


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, CrmError) and exc.retryable


class JournalPoller:
    """Reads one app's journal (``client``: ``adapters.hubspot.journal.JournalClient``);
    ``parse`` turns a list of journal events into inbound events (the webhook receiver's
    parser)."""

    def __init__(self, container: Any, client: Any, parse: Callable[[bytes], list[Any]], *,
                 count: int = 100, store_every: int = 10, max_batches: int = 1000,
                 attempts: int = 5,
                 backoff: tuple[float, float] = (1.0, 60.0),
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.container = container
        self.client = client
        self.parse = parse
        self.count = count
        #: entries whose events are stored (and the offset advanced) together: small
        #: enough that routing starts while the rest of a batch is still being read
        self.store_every = max(1, store_every)
        self.max_batches = max_batches
        self.attempts = attempts
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock

    @property
    def app_key(self) -> str:
        return str(self.client.client_id)

    def poll(self) -> PollResult:
        """One round with backoff: retryable errors are tried again after 1, 2, 4... s."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_retryable),
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=self.backoff[0], max=self.backoff[1]),
            sleep=self._sleep, reraise=True,
            before_sleep=lambda s: log.warning(
                "HubSpot journal read failed (%s); retrying in %.0f s",
                s.outcome.exception() if s.outcome else "?", s.upcoming_sleep or 0))
        return retrying(self.poll_once)

    def poll_once(self) -> PollResult:
        """Read until caught up (or ``max_batches``); no retry."""
        result = PollResult()
        reads_before = self.client.reads
        try:
            offset = self._offset()
            for _ in range(self.max_batches):
                entries, offset = self._next(offset, result)
                if not entries:
                    break
                for i in range(0, len(entries), self.store_every):
                    offset = self._store(offset, entries[i:i + self.store_every], result)
        finally:
            result.reads = self.client.reads - reads_before
            JOURNAL_READS.inc(result.reads)
        return result

    def _next(self, offset: str | None, result: PollResult) -> tuple[list[Any], str | None]:
        """The next entries and the offset they follow (None: from the oldest kept)."""
        if offset is None:
            return self.client.earliest(self.count), None
        try:
            return self.client.after(offset, self.count), offset
        except CrmError as exc:
            if exc.code != OFFSET_EXPIRED:
                raise
            result.gap = (f"The HubSpot webhooks journal no longer has offset {offset}: "
                          "events after it and before the oldest entry still kept (the "
                          "journal keeps 3 days) were lost. Routers may have missed "
                          "records changed in that time.")
            self._report_gap(offset, result.gap)
            return self.client.earliest(self.count), None

    def _store(self, offset: str | None, entries: list[Any], result: PollResult) -> str:
        parsed: list[Any] = []
        for entry in entries:
            events = self.client.events(entry)
            for i in range(0, len(events), PARSE_CHUNK):  # the parser takes webhook batches
                try:
                    parsed.extend(self.parse(json.dumps(events[i:i + PARSE_CHUNK])
                                             .encode("utf-8")))
                except ValueError as exc:
                    # events we cannot read would stop the journal for good: say so
                    # loudly and go past them (nothing of them was accepted)
                    log.error("HubSpot journal entry %s: events %d-%d skipped: %s",
                              entry.offset, i, min(i + PARSE_CHUNK, len(events)) - 1, exc)
            result.events += len(events)
        result.stored += store_inbound(self.container, parsed) if parsed else 0
        result.entries += len(entries)
        JOURNAL_EVENTS.inc(len(parsed))
        last = entries[-1].offset
        self._advance(offset, last, len(entries), len(parsed))
        return last

    # the durable offset ---------------------------------------------------------------------
    def _offset(self) -> str | None:
        with self.container.db.session() as session:
            row = session.get(HubSpotJournalOffsetRow, self.app_key)
            if row is None:
                session.add(HubSpotJournalOffsetRow(app_key=self.app_key, entries=0, events=0))
                return None
            return row.offset

    def _advance(self, old: str | None, new: str, entries: int, events: int) -> None:
        table = HubSpotJournalOffsetRow
        with self.container.db.session() as session:
            moved = session.execute(
                update(table).where(table.app_key == self.app_key,
                                    table.offset.is_(None) if old is None
                                    else table.offset == old)
                .values(offset=new, entries=table.entries + entries,
                        events=table.events + events, read_at=self._clock())).rowcount
        if not moved:
            log.info("HubSpot journal offset moved by another poller; this round stops")
            raise _Raced()

    def _report_gap(self, offset: str, message: str) -> None:
        log.error("%s", message)
        JOURNAL_GAPS.inc()
        table = HubSpotJournalOffsetRow
        with self.container.db.session() as session:  # go on from the oldest entry kept
            moved = session.execute(update(table).where(
                table.app_key == self.app_key, table.offset == offset).values(
                offset=None, gap_at=self._clock(), gap_message=message)).rowcount
        if not moved:
            raise _Raced()


class _Raced(Exception):
    """Another poller advanced the offset first."""


def poll_safely(poller: JournalPoller) -> PollResult | None:
    """What the schedules run: a round whose offset another poller moved simply ends."""
    try:
        return poller.poll()
    except _Raced:
        return None


def gap_status(db: Any) -> list[dict[str, Any]]:
    """For the console: per app, how far the journal was read and the last gap."""
    from sqlalchemy import select

    with db.read_session() as session:
        return [{"app": r.app_key, "entries": r.entries, "events": r.events,
                 "read_at": r.read_at, "gap_at": r.gap_at, "gap_message": r.gap_message}
                for r in session.scalars(select(HubSpotJournalOffsetRow))]
