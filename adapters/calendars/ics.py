"""An ICS feed's events as occurrences in a window, with ``icalendar`` and
``recurring-ical-events``.

``recurring-ical-events`` expands RRULE/RDATE/EXDATE and moved occurrences
(RECURRENCE-ID) in the event's own time zone, so a weekly 09:00 Europe/Berlin event
stays at 09:00 local across a daylight-saving change (08:00 UTC in winter, 07:00 UTC
in summer). Expansion is bounded: rules repeating every second or minute are read as
their first occurrence only (no one is out of office by the minute, and expanding them
costs seconds of CPU even for a few occurrences), and at most :data:`MAX_OCCURRENCES`
occurrences are read.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from connector.core.calendar import Busy, CalendarEvent

MAX_OCCURRENCES = 5000
#: Outlook / Exchange (``X-MICROSOFT-CDO-BUSYSTATUS``) and Evolution spell the status so
_BUSY_STATUS = {"FREE": Busy.FREE, "TENTATIVE": Busy.BUSY, "BUSY": Busy.BUSY,
                "OOF": Busy.OUT_OF_OFFICE, "OUTOFOFFICE": Busy.OUT_OF_OFFICE,
                "WORKINGELSEWHERE": Busy.FREE}


class InvalidFeed(ValueError):
    """The body is not an iCalendar file this parser can read."""


def parse_calendar(body: bytes | str) -> icalendar.Calendar:
    try:
        calendar = icalendar.Calendar.from_ical(body)
    except (ValueError, IndexError, KeyError) as exc:
        raise InvalidFeed("not a valid iCalendar file") from exc
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise InvalidFeed("not a VCALENDAR")
    return calendar


_TOO_FINE = {"SECONDLY", "MINUTELY"}


def _drop_fine_grained_rules(calendar: icalendar.Calendar) -> None:
    for event in calendar.walk("VEVENT"):
        rules = event.get("RRULE")
        rules = rules if isinstance(rules, list) else [rules] if rules is not None else []
        if any(str(f).upper() in _TOO_FINE for r in rules for f in r.get("FREQ", [])):
            del event["RRULE"]


def _busy(event: icalendar.Event) -> Busy:
    status = str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).strip().upper()
    if status in _BUSY_STATUS:
        return _BUSY_STATUS[status]
    if str(event.get("TRANSP", "OPAQUE")).strip().upper() == "TRANSPARENT":
        return Busy.FREE
    if str(event.get("STATUS", "")).strip().upper() == "CANCELLED":
        return Busy.FREE
    return Busy.BUSY


def _aware(value: date | datetime, tz: ZoneInfo) -> date | datetime:
    """A floating time (no TZID, no Z) is the rep's wall clock."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


def events_between(body: bytes | str | icalendar.Calendar, start: datetime, end: datetime,
                   *, default_tz: str = "UTC",
                   max_occurrences: int = MAX_OCCURRENCES) -> list[CalendarEvent]:
    """Every event occurrence overlapping ``[start, end)``, in start order."""
    calendar = body if isinstance(body, icalendar.Calendar) else parse_calendar(body)
    _drop_fine_grained_rules(calendar)
    tz = ZoneInfo(default_tz)
    query = recurring_ical_events.of(calendar, components=["VEVENT"])
    found = []
    try:
        for event in itertools.islice(query.after(start), max_occurrences):
            dtstart = _aware(event.start, tz)
            if isinstance(dtstart, datetime) and dtstart >= end:
                break
            if not isinstance(dtstart, datetime) and dtstart >= end.astimezone(tz).date():
                break
            try:
                dtend = _aware(event.end, tz)
            except (icalendar.InvalidCalendar, KeyError, ValueError):
                dtend = dtstart + timedelta(days=1) if not isinstance(dtstart, datetime) \
                    else dtstart
            found.append(CalendarEvent(dtstart, dtend, _busy(event),
                                       str(event.get("SUMMARY", ""))[:200]))
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidFeed("the feed's recurrences cannot be expanded") from exc
    return found
