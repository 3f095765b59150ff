from datetime import UTC, datetime, timedelta

import pytest

from connector.core.distribution import RotationState, weighted
from connector.core.model import DistributionModel, Rep, RouterMember, TimeRange
from connector.core.sla import (
    ClockKind,
    Condition,
    Monitor,
    Stage,
    add_time,
    credit_back,
    deadline,
    due,
    elapsed,
    format_duration,
    fractions,
    left,
    parse_duration,
)

NINE_TO_FIVE = {d: (TimeRange("09:00", "17:00"),) for d in range(5)}
BERLIN = Rep(id="r1", email="r@x.io", timezone="Europe/Berlin", working_hours=NINE_TO_FIVE)
ALWAYS = Rep(id="r2", email="a@x.io")


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_durations_in_iso_8601_with_seconds():
    assert parse_duration("PT90S") == timedelta(seconds=90)
    assert parse_duration("PT1H30M") == timedelta(minutes=90)
    assert parse_duration("P1DT2H") == timedelta(days=1, hours=2)
    assert parse_duration("P1W") == timedelta(days=7)
    assert parse_duration("PT0.5S") == timedelta(milliseconds=500)
    assert format_duration(timedelta(days=1, hours=2, seconds=5)) == "P1DT2H5S"
    assert format_duration(timedelta(minutes=15)) == "PT15M"


@pytest.mark.parametrize("text", ["", "P", "PT", "15M", "P1M", "P1Y", "PT0S", "P400D",
                                  "PT-5M", "P1H", "x" * 100])
def test_durations_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_wall_time_is_plain_addition():
    start = at(4, 16, 50)  # Friday 17:50 in Berlin, after hours
    assert add_time(start, timedelta(minutes=30), BERLIN, ClockKind.WALL) == at(4, 17, 20)


def test_working_time_pauses_outside_the_reps_hours():
    # Wednesday 15:50 UTC = 16:50 Berlin: 10 minutes today, 20 on Thursday from 09:00
    assert add_time(at(2, 15, 50), timedelta(minutes=30), BERLIN, ClockKind.WORKING) \
        == at(3, 8, 20)
    # Friday 16:50 Berlin: 10 minutes on Friday, the rest on Monday morning
    assert add_time(at(4, 15, 50), timedelta(minutes=30), BERLIN, ClockKind.WORKING) \
        == at(7, 8, 20)
    # started at night: the clock starts at 09:00
    assert add_time(at(2, 2, 0), timedelta(hours=1), BERLIN, ClockKind.WORKING) \
        == at(2, 9, 0)


def test_working_time_follows_dst():
    # Friday 27 March 2026 16:30 CET (15:30 UTC); Monday 30 March 09:00 is CEST (07:00 UTC)
    assert add_time(datetime(2026, 3, 27, 15, 30, tzinfo=UTC), timedelta(hours=1), BERLIN,
                    ClockKind.WORKING) == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)


def test_overnight_shift_counts_into_the_next_day():
    night = Rep(id="n", email="n@x.io", working_hours={0: (TimeRange("22:00", "06:00"),)})
    # Monday 23:00 UTC with 8 hours: 7 hours Monday night, then next Monday 22:00 + 1 h
    assert add_time(at(7, 23), timedelta(hours=7), night, ClockKind.WORKING) == at(8, 6)
    assert add_time(at(7, 23), timedelta(hours=8), night, ClockKind.WORKING) == at(14, 23)


def test_reps_without_hours_and_with_an_empty_week():
    assert add_time(at(5, 3), timedelta(hours=1), ALWAYS, ClockKind.WORKING) == at(5, 4)
    never = Rep(id="z", email="z@x.io", working_hours={})
    assert add_time(at(5, 3), timedelta(hours=1), never, ClockKind.WORKING) == at(5, 4)


def test_elapsed_and_left_in_working_time():
    start = at(4, 15, 50)  # Friday 16:50 Berlin
    assert elapsed(start, at(6, 12), BERLIN, ClockKind.WORKING) == timedelta(minutes=10)
    assert elapsed(start, at(7, 8, 5), BERLIN, ClockKind.WORKING) == timedelta(minutes=15)
    end = at(7, 8, 20)
    assert left(end, at(6, 12), BERLIN, ClockKind.WORKING) == timedelta(minutes=20)
    assert left(end, at(7, 8, 30), BERLIN, ClockKind.WORKING) == -timedelta(minutes=10)


MONITOR = Monitor(Condition.FIRST_TOUCH, timedelta(minutes=60), ClockKind.WALL,
                  reminders=(0.5, 0.75),
                  stages=(Stage(), Stage(after=timedelta(minutes=30), reassign=True)))


def _due(now, sent=0, done=0, start=at(2, 10)):
    return due(MONITOR, start=start, deadline_at=deadline(MONITOR, start, ALWAYS),
               rep=ALWAYS, reminders_sent=sent, stages_done=done, now=now)


def test_reminders_then_stages_in_order_each_once():
    assert _due(at(2, 10, 10)).reminders == ()
    assert _due(at(2, 10, 10)).next_check == at(2, 10, 30)
    assert _due(at(2, 10, 30)).reminders == (0,)
    assert _due(at(2, 10, 50)).reminders == (0, 1)  # a missed reminder is still sent
    assert _due(at(2, 10, 50), sent=2).reminders == ()
    assert _due(at(2, 10, 50), sent=2).next_check == at(2, 11)
    breach = _due(at(2, 11), sent=2)
    assert (breach.stage, breach.breached) == (0, True)
    assert not _due(at(2, 10, 59), sent=2).breached
    assert _due(at(2, 11, 10), sent=2, done=1).stage is None
    assert _due(at(2, 11, 10), sent=2, done=1).next_check == at(2, 11, 30)
    assert _due(at(2, 11, 30), sent=2, done=1).stage == 1
    last = _due(at(2, 12), sent=2, done=2)
    assert (last.stage, last.reminders, last.next_check) == (None, (), None)


def test_the_deadline_is_a_check_even_without_stages():
    monitor = Monitor(Condition.FIRST_TOUCH, timedelta(minutes=10), ClockKind.WALL)
    start = at(2, 10)
    early = due(monitor, start=start, deadline_at=at(2, 10, 10), rep=None, reminders_sent=0,
                stages_done=0, now=at(2, 10, 1))
    assert (early.next_check, early.breached) == (at(2, 10, 10), False)
    late = due(monitor, start=start, deadline_at=at(2, 10, 10), rep=None, reminders_sent=0,
               stages_done=0, now=at(2, 10, 10))
    assert (late.next_check, late.breached, late.stage) == (None, True, None)


def test_stages_count_in_working_time_too():
    monitor = Monitor(Condition.FIRST_TOUCH, timedelta(minutes=30), ClockKind.WORKING,
                      stages=(Stage(),))
    start = at(4, 15, 50)  # Friday 16:50 Berlin; due Monday 09:20
    end = deadline(monitor, start, BERLIN)
    assert due(monitor, start=start, deadline_at=end, rep=BERLIN, reminders_sent=0,
               stages_done=0, now=at(6, 12)).stage is None  # Sunday: paused
    assert due(monitor, start=start, deadline_at=end, rep=BERLIN, reminders_sent=0,
               stages_done=0, now=at(7, 8, 20)).stage == 0


def test_reminder_fractions_checked():
    assert fractions([0.75, 0.5]) == (0.5, 0.75)
    for bad in ([0], [1], [1.5], ["0.5"], [True], [0.5, 0.5], [0.1] * 6):
        with pytest.raises(ValueError):
            fractions(bad)


def test_a_weighted_rotation_owes_the_late_rep_the_record_taken_away():
    members = [RouterMember("a", 1, weight=1), RouterMember("b", 2, weight=1),
               RouterMember("c", 3, weight=1)]
    picked, state = weighted(members, RotationState())
    assert picked.rep_id == "a"
    # the SLA reassigns a's record to b (a is not eligible for it)
    again, state = weighted(members[1:], state, members)
    assert again.rep_id == "b"
    credited = credit_back(DistributionModel.WEIGHTED, state, "a", members)

    def next_three(current: RotationState) -> list[str]:
        picks = []
        for _ in range(3):
            member, current = weighted(members, current, members)
            picks.append(member.rep_id)
        return picks

    assert next_three(credited) == ["c", "a", "b"]  # a gets the second record
    assert next_three(state) == ["c", "b", "c"]  # without the credit, only the fourth
    rr = RotationState(last_position=2)
    assert credit_back(DistributionModel.ROUND_ROBIN, rr, "a", members) == rr
