"""Whether a rep can take a record now, and the calendar periods their caps count in.

Working hours are wall-clock ranges in the rep's IANA time zone, so a rep in
Europe/Berlin who works 09:00-17:00 keeps those hours across daylight-saving changes.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from .model import Rep, RepStatus, TimeRange


class SkipReason(StrEnum):
    UNAVAILABLE = "unavailable"
    OUT_OF_OFFICE = "out of office"
    OUTSIDE_WORKING_HOURS = "outside working hours"
    DAILY_CAP = "daily cap reached"
    WEEKLY_CAP = "weekly cap reached"
    NOT_A_USER = "user no longer exists"


def _parse_hhmm(text: str) -> time | None:
    """'24:00' means end of day and is returned as None."""
    if text == "24:00":
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _bounds(span: TimeRange) -> tuple[time, time | None]:
    return _parse_hhmm(span.start) or time(0, 0), _parse_hhmm(span.end)


def _overnight(start: time, end: time | None) -> bool:
    """A shift like 22:00-06:00 that ends on the next day."""
    return end is not None and end <= start


def _starts_today(local: time, span: TimeRange) -> bool:
    """Whether ``local`` falls in the part of ``span`` on the day it is listed under."""
    start, end = _bounds(span)
    if end is None or _overnight(start, end):
        return local >= start
    return start <= local < end


def _runs_over_from_yesterday(local: time, span: TimeRange) -> bool:
    """Whether ``local`` falls in the after-midnight part of yesterday's overnight shift."""
    start, end = _bounds(span)
    return _overnight(start, end) and local < end


def local_time(rep: Rep, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(rep.timezone))


def within_working_hours(rep: Rep, now: datetime) -> bool:
    """Whether ``now`` is in the rep's working hours. An overnight shift belongs to the
    day it starts on: Friday 22:00-06:00 covers Friday night and early Saturday, not early
    Friday. Times are the rep's wall clock, so a shift over a DST change keeps its local
    start and end."""
    if rep.working_hours is None:
        return True
    local = local_time(rep, now)
    clock = local.time().replace(tzinfo=None)
    today = rep.working_hours.get(local.weekday(), ())
    yesterday = rep.working_hours.get((local.weekday() - 1) % 7, ())
    return any(_starts_today(clock, span) for span in today) or \
        any(_runs_over_from_yesterday(clock, span) for span in yesterday)


def unavailability(rep: Rep, now: datetime, *, check_hours: bool = True) -> SkipReason | None:
    """Why ``rep`` cannot take a record at ``now``, or None when they can."""
    if rep.status != RepStatus.AVAILABLE:
        return SkipReason.UNAVAILABLE
    if any(p.start <= now < p.end for p in rep.out_of_office):
        return SkipReason.OUT_OF_OFFICE
    if check_hours and not within_working_hours(rep, now):
        return SkipReason.OUTSIDE_WORKING_HOURS
    return None


def period_keys(rep: Rep, now: datetime) -> dict[str, str]:
    """The rep-local day and ISO week that a cap counts assignments in."""
    local = local_time(rep, now)
    year, week, _ = local.isocalendar()
    return {"day": local.date().isoformat(), "week": f"{year}-W{week:02d}"}
