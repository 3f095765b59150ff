"""Availability from calendars: the periods a rep is out of office, from their own
calendar's events and their team's holidays.

The rule: a rep is out of office during an all-day event that shows them busy (a
vacation entered as a day or days), during an event marked out of office (Outlook's
``X-MICROSOFT-CDO-BUSYSTATUS:OOF``), and on their team's holidays. A timed
busy meeting does not make a rep out of office: meetings are what working hours are
for, and a rep in a meeting can still take a lead.

All-day events and holidays are dates, not instants: a day is the rep's local day, from
local midnight to the next local midnight in the rep's IANA time zone, so a holiday on the
day clocks change lasts 23 or 25 hours. Recurring events reach this module already
expanded into occurrences (``adapters/calendars`` does that with
``recurring-ical-events``, which keeps an occurrence's wall-clock time across daylight
saving changes); the result merges into :attr:`connector.core.model.Rep.out_of_office`,
which the engine already honours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from .model import Period, Rep


class Busy(StrEnum):
    FREE = "free"
    BUSY = "busy"
    OUT_OF_OFFICE = "out_of_office"


@dataclass(frozen=True)
class CalendarEvent:
    """One occurrence. ``start``/``end`` are dates for an all-day event (``end`` is the
    day after the last, as in iCalendar) and timezone-aware datetimes otherwise."""

    start: date | datetime
    end: date | datetime
    busy: Busy = Busy.BUSY
    summary: str = ""

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str = ""


@dataclass(frozen=True)
class Absence:
    """A period out of office and what caused it, for the decision's reason."""

    period: Period
    why: str


def local_day(day: date, tz: ZoneInfo) -> Period:
    """The rep's local day as an absolute interval in UTC (23 or 25 hours on a clock
    change; UTC because arithmetic on two datetimes of one ZoneInfo is wall-clock)."""
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    return Period(start, end)


def absences(events: Iterable[CalendarEvent], tz_name: str,
             holidays: Iterable[Holiday] = ()) -> list[Absence]:
    """Every period the rep is out of office, in start order."""
    tz = ZoneInfo(tz_name)
    found: list[Absence] = []
    for event in events:
        if event.all_day:
            if event.busy is Busy.FREE:
                continue
            start, end = event.start, max(event.end, event.start + timedelta(days=1))
            period = Period(local_day(start, tz).start, local_day(end, tz).start)
            label = "all-day out-of-office event" if event.busy is Busy.OUT_OF_OFFICE \
                else "all-day busy event"
        else:
            if event.busy is not Busy.OUT_OF_OFFICE:
                continue
            assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
            if event.end <= event.start:
                continue
            period = Period(event.start, event.end)
            label = "out-of-office event"
        found.append(Absence(period, f"{label} {event.summary!r}" if event.summary
                             else label))
    for holiday in holidays:
        found.append(Absence(local_day(holiday.day, tz),
                             f"team holiday {holiday.name!r} on {holiday.day.isoformat()}"
                             if holiday.name else
                             f"team holiday on {holiday.day.isoformat()}"))
    found.sort(key=lambda a: (a.period.start, a.period.end))
    return found


def merged(periods: Sequence[Period]) -> tuple[Period, ...]:
    """Overlapping or touching periods joined, in order."""
    out: list[Period] = []
    for p in sorted(periods, key=lambda p: p.start):
        if out and p.start <= out[-1].end:
            if p.end > out[-1].end:
                out[-1] = Period(out[-1].start, p.end)
        else:
            out.append(p)
    return tuple(out)


def with_calendar(rep: Rep, events: Iterable[CalendarEvent],
                  holidays: Iterable[Holiday] = ()) -> Rep:
    """``rep`` with their calendar's absences added to the out-of-office periods they
    entered by hand, ready for :func:`connector.core.engine.decide`."""
    found = [a.period for a in absences(events, rep.timezone, holidays)]
    return replace(rep, out_of_office=merged([*rep.out_of_office, *found]))


def absence_at(rep: Rep, events: Iterable[CalendarEvent], now: datetime,
               holidays: Iterable[Holiday] = ()) -> Absence | None:
    """The calendar absence covering ``now``, to name in a skip reason; None when the
    calendar leaves the rep in."""
    return next((a for a in absences(events, rep.timezone, holidays)
                 if a.period.start <= now < a.period.end), None)


def team_holidays(calendars: Mapping[str, Sequence[Holiday]], team_ids: Iterable[str]
                  ) -> list[Holiday]:
    """The holidays of every team a rep belongs to (a rep in two offices observes both)."""
    seen: dict[date, Holiday] = {}
    for team in team_ids:
        for holiday in calendars.get(team, ()):
            seen.setdefault(holiday.day, holiday)
    return sorted(seen.values(), key=lambda h: h.day)
