from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from connector.core.availability import SkipReason, unavailability
from connector.core.calendar import (
    Busy,
    CalendarEvent,
    Holiday,
    absence_at,
    absences,
    local_day,
    team_holidays,
    with_calendar,
)
from connector.core.model import Period, Rep

BERLIN = ZoneInfo("Europe/Berlin")
REP = Rep("r1", "ann@example.com", timezone="Europe/Berlin")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_all_day_busy_event_is_the_reps_local_day():
    rep = with_calendar(REP, [CalendarEvent(date(2027, 1, 4), date(2027, 1, 6), Busy.BUSY,
                                            "Skiing")])
    assert rep.out_of_office == (Period(utc(2027, 1, 3, 23), utc(2027, 1, 5, 23)),)
    assert unavailability(rep, utc(2027, 1, 3, 23, 30)) == SkipReason.OUT_OF_OFFICE
    assert unavailability(rep, utc(2027, 1, 5, 23, 0)) is None


def test_an_all_day_free_event_and_a_timed_meeting_leave_the_rep_in():
    events = [CalendarEvent(date(2027, 1, 4), date(2027, 1, 5), Busy.FREE, "Birthday"),
              CalendarEvent(utc(2027, 1, 4, 9), utc(2027, 1, 4, 10), Busy.BUSY, "1:1")]
    assert absences(events, "Europe/Berlin") == []
    assert with_calendar(REP, events).out_of_office == ()


def test_a_timed_out_of_office_event_is_absolute():
    event = CalendarEvent(utc(2027, 1, 4, 12), utc(2027, 1, 4, 18), Busy.OUT_OF_OFFICE,
                          "Dentist")
    absence = absence_at(REP, [event], utc(2027, 1, 4, 13))
    assert absence.why == "out-of-office event 'Dentist'"
    assert absence_at(REP, [event], utc(2027, 1, 4, 18)) is None


def test_a_holiday_on_the_day_clocks_go_forward_lasts_23_hours():
    day = local_day(date(2027, 3, 28), BERLIN)
    assert day.end - day.start == timedelta(hours=23)
    autumn = local_day(date(2027, 10, 31), BERLIN)
    assert autumn.end - autumn.start == timedelta(hours=25)


def test_team_holidays_make_the_rep_out_of_office_and_say_which():
    calendars = {"emea": [Holiday(date(2027, 5, 1), "Labour Day")],
                 "dach": [Holiday(date(2027, 5, 1), "Tag der Arbeit"),
                          Holiday(date(2027, 10, 3), "Tag der Deutschen Einheit")]}
    holidays = team_holidays(calendars, ["emea", "dach", "unknown"])
    assert [h.day for h in holidays] == [date(2027, 5, 1), date(2027, 10, 3)]
    rep = with_calendar(REP, [], holidays)
    assert unavailability(rep, utc(2027, 5, 1, 12)) == SkipReason.OUT_OF_OFFICE
    assert unavailability(rep, utc(2027, 5, 2, 12)) is None
    assert absence_at(REP, [], utc(2027, 10, 2, 22, 30), holidays).why == \
        "team holiday 'Tag der Deutschen Einheit' on 2027-10-03"


def test_calendar_periods_join_those_entered_by_hand():
    manual = Period(utc(2027, 1, 1), utc(2027, 1, 4, 12))
    rep = Rep("r1", "ann@example.com", timezone="UTC", out_of_office=(manual,))
    rep = with_calendar(rep, [CalendarEvent(date(2027, 1, 4), date(2027, 1, 5)),
                              CalendarEvent(date(2027, 1, 5), date(2027, 1, 6))])
    assert rep.out_of_office == (Period(utc(2027, 1, 1), utc(2027, 1, 6)),)
