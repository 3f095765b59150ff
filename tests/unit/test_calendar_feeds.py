"""ICS parsing with recurrences across daylight-saving changes, and the feed fetcher
against a feed served from 127.0.0.1."""

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from adapters.calendars.feed import FeedFetcher, FetchStatus
from adapters.calendars.ics import InvalidFeed, events_between
from connector.core.availability import SkipReason, unavailability
from connector.core.calendar import Busy, with_calendar
from connector.core.model import Rep

BERLIN_TZ = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""

FEED = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Calendar//EN\r\n"
        + BERLIN_TZ.replace("\n", "\r\n") + """\
BEGIN:VEVENT
UID:friday-oof@example.com
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/Berlin:20270319T090000
DTEND;TZID=Europe/Berlin:20270319T170000
RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=4
EXDATE;TZID=Europe/Berlin:20270409T090000
SUMMARY:Customer visits
X-MICROSOFT-CDO-BUSYSTATUS:OOF
END:VEVENT
BEGIN:VEVENT
UID:monday-focus@example.com
DTSTAMP:20270101T000000Z
DTSTART;VALUE=DATE:20270322
DTEND;VALUE=DATE:20270323
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:No meetings day
END:VEVENT
BEGIN:VEVENT
UID:standup@example.com
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/Berlin:20270322T093000
DTEND;TZID=Europe/Berlin:20270322T094500
RRULE:FREQ=DAILY
SUMMARY:Stand-up
END:VEVENT
BEGIN:VEVENT
UID:ny-offsite@example.com
DTSTAMP:20270101T000000Z
DTSTART;TZID=America/New_York:20270310T090000
DTEND;TZID=America/New_York:20270310T120000
RRULE:FREQ=DAILY;COUNT=6
SUMMARY:Offsite (New York)
X-MICROSOFT-CDO-BUSYSTATUS:OOF
END:VEVENT
BEGIN:VEVENT
UID:transparent@example.com
DTSTAMP:20270101T000000Z
DTSTART;VALUE=DATE:20270401
DTEND;VALUE=DATE:20270402
TRANSP:TRANSPARENT
SUMMARY:Reminder only
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n"))

REP = Rep("r1", "ann@example.com", timezone="Europe/Berlin")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def window():
    return events_between(FEED, utc(2027, 3, 1), utc(2027, 5, 1), default_tz="Europe/Berlin")


def test_weekly_event_keeps_its_local_time_across_the_dst_change():
    fridays = [(e.start.astimezone(UTC), e.end.astimezone(UTC)) for e in window()
               if e.summary == "Customer visits"]
    # Berlin changes to summer time on 28 March 2027; 9 April is excluded
    assert fridays == [(utc(2027, 3, 19, 8), utc(2027, 3, 19, 16)),
                       (utc(2027, 3, 26, 8), utc(2027, 3, 26, 16)),
                       (utc(2027, 4, 2, 7), utc(2027, 4, 2, 15))]
    rep = with_calendar(REP, window())
    assert unavailability(rep, utc(2027, 4, 2, 7, 30)) == SkipReason.OUT_OF_OFFICE
    assert unavailability(rep, utc(2027, 3, 26, 7, 30)) is None
    assert unavailability(rep, utc(2027, 4, 2, 15, 30)) is None
    assert unavailability(rep, utc(2027, 4, 9, 8)) is None


def test_an_event_in_another_zone_crosses_its_own_dst_change():
    offsite = [e.start.astimezone(UTC) for e in window() if e.summary.startswith("Offsite")]
    # New York changes on 14 March 2027: 09:00 local is 14:00 UTC, then 13:00 UTC
    assert offsite == [utc(2027, 3, d, 14) for d in (10, 11, 12, 13)] + \
        [utc(2027, 3, d, 13) for d in (14, 15)]


def test_recurring_all_day_events_are_local_days_on_both_sides_of_the_change():
    rep = with_calendar(REP, [e for e in window() if e.summary == "No meetings day"])
    starts = [(p.start, p.end) for p in rep.out_of_office]
    assert starts == [(utc(2027, 3, 21, 23), utc(2027, 3, 22, 23)),
                      (utc(2027, 3, 28, 22), utc(2027, 3, 29, 22)),
                      (utc(2027, 4, 4, 22), utc(2027, 4, 5, 22))]


def test_meetings_and_transparent_events_leave_the_rep_in():
    events = window()
    standups = [e for e in events if e.summary == "Stand-up"]
    assert standups and all(e.busy is Busy.BUSY for e in standups)
    reminder = [e for e in events if e.summary == "Reminder only"]
    assert [e.busy for e in reminder] == [Busy.FREE]
    rep = with_calendar(REP, events)
    assert unavailability(rep, utc(2027, 3, 23, 8, 35)) is None  # 09:35 stand-up
    assert unavailability(rep, utc(2027, 4, 1, 12)) is None


def test_an_endless_fine_grained_recurrence_is_read_once():
    feed = FEED.replace("RRULE:FREQ=DAILY\r\n", "RRULE:FREQ=SECONDLY\r\n")
    events = events_between(feed, utc(2027, 3, 1), utc(2028, 3, 1))
    assert [e.start.astimezone(UTC) for e in events if e.summary == "Stand-up"] == [
        utc(2027, 3, 22, 8, 30)]


def test_occurrences_are_bounded_in_count():
    events = events_between(FEED, utc(2027, 3, 1), utc(2030, 3, 1), max_occurrences=100)
    assert len(events) == 100


def test_a_body_that_is_not_a_calendar_is_refused():
    with pytest.raises(InvalidFeed):
        events_between(b"<html>login</html>", utc(2027, 3, 1), utc(2027, 4, 1))


class _Feed:
    """What the served feed does; changed by the tests."""

    def __init__(self) -> None:
        self.body = FEED.encode()
        self.etag = '"v1"'
        self.last_modified = "Mon, 01 Mar 2027 10:00:00 GMT"
        self.status = 200
        self.requests: list[dict[str, str]] = []


@pytest.fixture
def served():
    feed = _Feed()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            feed.requests.append({k: v for k, v in self.headers.items()})
            if feed.status != 200:
                self.send_response(feed.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == feed.etag:
                self.send_response(304)
                self.send_header("ETag", feed.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("ETag", feed.etag)
            self.send_header("Last-Modified", feed.last_modified)
            self.send_header("Content-Length", str(len(feed.body)))
            self.end_headers()
            self.wfile.write(feed.body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    feed.url = f"http://127.0.0.1:{server.server_port}/private-0123abcd/basic.ics"
    yield feed
    server.shutdown()
    server.server_close()


def fetcher() -> FeedFetcher:
    return FeedFetcher(requests.Session(), timeout=5,
                       clock=lambda: utc(2027, 3, 1, 12))


def test_a_refresh_is_conditional_and_a_304_keeps_the_copy(served):
    first = fetcher().fetch(served.url)
    assert first.status is FetchStatus.UPDATED
    assert (first.copy.etag, first.copy.last_modified) == ('"v1"', served.last_modified)
    assert "If-None-Match" not in served.requests[0]
    again = fetcher().fetch(served.url, first.copy)
    assert again.status is FetchStatus.NOT_MODIFIED and again.copy is first.copy
    assert served.requests[1]["If-None-Match"] == '"v1"'
    assert served.requests[1]["If-Modified-Since"] == served.last_modified
    served.etag, served.body = '"v2"', FEED.replace("Customer visits", "Trade fair").encode()
    changed = fetcher().fetch(served.url, first.copy)
    assert changed.status is FetchStatus.UPDATED and b"Trade fair" in changed.copy.body


@pytest.mark.parametrize("change,error", [
    ({"status": 500}, "the feed answered HTTP 500"),
    ({"status": 404}, "the feed answered HTTP 404"),
    ({"body": b"<html>Sign in</html>", "etag": '"v9"'},
     "the feed is not a valid iCalendar file"),
])
def test_a_failing_feed_keeps_the_last_good_copy_and_says_why(served, change, error):
    good = fetcher().fetch(served.url).copy
    for name, value in change.items():
        setattr(served, name, value)
    result = fetcher().fetch(served.url, good)
    assert result.status is FetchStatus.FAILED and result.stale
    assert result.copy is good
    assert result.error == error


def test_an_unreachable_feed_fails_without_revealing_its_address(served):
    good = fetcher().fetch(served.url).copy
    closed = "http://127.0.0.1:9/private-0123abcd/basic.ics"
    result = fetcher().fetch(closed, good)
    assert result.stale and result.error == "the feed could not be fetched (ConnectionError)"
    assert "private-0123abcd" not in result.error


def test_an_oversized_feed_is_not_read_whole(served):
    result = FeedFetcher(requests.Session(), max_bytes=1000).fetch(served.url)
    assert result.status is FetchStatus.FAILED and result.copy is None
    assert result.error == "the feed is larger than 1000 bytes"


def test_only_web_addresses_are_fetched():
    result = fetcher().fetch("file:///etc/passwd")
    assert result.status is FetchStatus.FAILED
    assert "must start with https://" in result.error


def test_floating_times_are_the_reps_wall_clock_and_duration_gives_the_end():
    feed = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
            "BEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20270101T000000Z\r\n"
            "DTSTART:20270311T100000\r\nDURATION:PT2H\r\nSUMMARY:Doctor\r\n"
            "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nEND:VEVENT\r\n"
            "BEGIN:VEVENT\r\nUID:2\r\nDTSTAMP:20270101T000000Z\r\n"
            "DTSTART;VALUE=DATE:20270312\r\nSUMMARY:Off\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    doctor, off = events_between(feed, utc(2027, 3, 1), utc(2027, 4, 1),
                                 default_tz="Europe/Berlin")
    assert (doctor.start.astimezone(UTC), doctor.end.astimezone(UTC)) == (
        utc(2027, 3, 11, 9), utc(2027, 3, 11, 11))
    assert (off.start.isoformat(), off.end.isoformat()) == ("2027-03-12", "2027-03-13")
