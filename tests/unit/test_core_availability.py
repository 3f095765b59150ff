from datetime import UTC, datetime

from connector.core.availability import (
    SkipReason,
    period_keys,
    unavailability,
    within_working_hours,
)
from connector.core.model import Period, Rep, RepStatus, TimeRange

NINE_TO_FIVE = {d: (TimeRange("09:00", "17:00"),) for d in range(5)}


def rep(**kw) -> Rep:
    return Rep(id="r1", email="r@x.io", **kw)


def test_status_and_out_of_office():
    now = datetime(2026, 6, 3, 12, tzinfo=UTC)
    assert unavailability(rep(status=RepStatus.UNAVAILABLE), now) == SkipReason.UNAVAILABLE
    away = Period(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC))
    assert unavailability(rep(out_of_office=(away,)), now) == SkipReason.OUT_OF_OFFICE
    back = Period(datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 3, 12, tzinfo=UTC))
    assert unavailability(rep(out_of_office=(back,)), now) is None  # end is exclusive


def test_working_hours_follow_the_reps_time_zone():
    tokyo = rep(timezone="Asia/Tokyo", working_hours=NINE_TO_FIVE)
    # Wednesday 01:00 UTC is 10:00 in Tokyo
    assert within_working_hours(tokyo, datetime(2026, 6, 3, 1, tzinfo=UTC))
    assert not within_working_hours(tokyo, datetime(2026, 6, 3, 9, tzinfo=UTC))  # 18:00
    # Friday 23:30 UTC is Saturday 08:30 in Tokyo: weekend
    assert not within_working_hours(tokyo, datetime(2026, 6, 5, 23, 30, tzinfo=UTC))


def test_working_hours_keep_wall_clock_across_dst():
    ny = rep(timezone="America/New_York", working_hours=NINE_TO_FIVE)
    # 13:30 UTC: 08:30 EST in winter (closed), 09:30 EDT in summer (open)
    assert not within_working_hours(ny, datetime(2026, 3, 6, 13, 30, tzinfo=UTC))
    assert within_working_hours(ny, datetime(2026, 3, 9, 13, 30, tzinfo=UTC))  # after 8 Mar
    berlin = rep(timezone="Europe/Berlin", working_hours=NINE_TO_FIVE)
    # 16:30 UTC: 17:30 CET before 29 Mar (closed) and 18:30 CEST after (closed); 15:30 UTC
    # is 16:30 CET (open) before and 17:30 CEST (closed) after.
    assert within_working_hours(berlin, datetime(2026, 3, 27, 15, 30, tzinfo=UTC))
    assert not within_working_hours(berlin, datetime(2026, 3, 30, 15, 30, tzinfo=UTC))


def test_overnight_and_end_of_day_ranges():
    night = rep(working_hours={2: (TimeRange("22:00", "06:00"),),
                               3: (TimeRange("00:00", "24:00"),)})
    assert within_working_hours(night, datetime(2026, 6, 3, 23, tzinfo=UTC))  # Wed 23:00
    assert not within_working_hours(night, datetime(2026, 6, 3, 12, tzinfo=UTC))
    assert within_working_hours(night, datetime(2026, 6, 4, 23, 59, tzinfo=UTC))  # Thursday


def test_missing_day_means_off_and_none_means_always():
    assert within_working_hours(rep(), datetime(2026, 6, 6, 3, tzinfo=UTC))
    assert unavailability(rep(working_hours=NINE_TO_FIVE),
                          datetime(2026, 6, 6, 12, tzinfo=UTC)) == \
        SkipReason.OUTSIDE_WORKING_HOURS


def test_period_keys_are_rep_local():
    la = rep(timezone="America/Los_Angeles")
    # Monday 2026-06-01 03:00 UTC is still Sunday 31 May in Los Angeles
    keys = period_keys(la, datetime(2026, 6, 1, 3, tzinfo=UTC))
    assert keys == {"day": "2026-05-31", "week": "2026-W22"}
    assert period_keys(rep(), datetime(2026, 6, 1, 3, tzinfo=UTC))["week"] == "2026-W23"


FRIDAY_NIGHT = {4: (TimeRange("22:00", "06:00"),)}


def test_an_overnight_shift_runs_into_the_next_day_not_the_same_morning():
    night = rep(working_hours=FRIDAY_NIGHT)
    assert within_working_hours(night, datetime(2026, 6, 6, 2, tzinfo=UTC))       # Sat 02:00
    assert not within_working_hours(night, datetime(2026, 6, 5, 2, tzinfo=UTC))   # Fri 02:00
    assert within_working_hours(night, datetime(2026, 6, 5, 22, tzinfo=UTC))      # Fri 22:00
    assert not within_working_hours(night, datetime(2026, 6, 5, 21, 59, tzinfo=UTC))
    assert within_working_hours(night, datetime(2026, 6, 6, 5, 59, tzinfo=UTC))   # Sat 05:59
    assert not within_working_hours(night, datetime(2026, 6, 6, 6, tzinfo=UTC))   # Sat 06:00
    assert not within_working_hours(night, datetime(2026, 6, 6, 23, tzinfo=UTC))  # Sat 23:00


def test_a_sunday_night_shift_runs_into_monday():
    sunday_night = rep(working_hours={6: (TimeRange("22:00", "06:00"),)})
    assert within_working_hours(sunday_night, datetime(2026, 6, 8, 3, tzinfo=UTC))   # Mon
    assert not within_working_hours(sunday_night, datetime(2026, 6, 7, 3, tzinfo=UTC))


def test_an_overnight_shift_keeps_its_wall_clock_across_dst_changes():
    # Saturday 22:00-06:00 in Berlin; the clocks change in the early hours of Sunday.
    berlin = rep(timezone="Europe/Berlin", working_hours={5: (TimeRange("22:00", "06:00"),)})
    # spring, Sun 29 Mar 2026 02:00 CET -> 03:00 CEST
    assert within_working_hours(berlin, datetime(2026, 3, 28, 21, tzinfo=UTC))      # 22:00
    assert within_working_hours(berlin, datetime(2026, 3, 29, 0, 30, tzinfo=UTC))   # 01:30
    assert within_working_hours(berlin, datetime(2026, 3, 29, 1, 30, tzinfo=UTC))   # 03:30
    assert within_working_hours(berlin, datetime(2026, 3, 29, 3, 59, tzinfo=UTC))   # 05:59
    assert not within_working_hours(berlin, datetime(2026, 3, 29, 4, tzinfo=UTC))  # 06:00
    # the Saturday morning before is not part of it (no Friday shift)
    assert not within_working_hours(berlin, datetime(2026, 3, 28, 2, tzinfo=UTC))
    # autumn, Sun 25 Oct 2026 03:00 CEST -> 02:00 CET: the shift is an hour longer
    assert within_working_hours(berlin, datetime(2026, 10, 24, 20, tzinfo=UTC))     # 22:00
    assert within_working_hours(berlin, datetime(2026, 10, 25, 4, 59, tzinfo=UTC))  # 05:59
    assert not within_working_hours(berlin, datetime(2026, 10, 25, 5, tzinfo=UTC))  # 06:00
