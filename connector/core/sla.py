"""SLA clocks: when a record's owner must have acted, and what is due when they have not.

A monitor gives the owner a duration D (ISO 8601, e.g. ``PT15M``, ``PT90S``, ``P1DT2H``)
counted in wall time or in the owner's working time. Working time is the rep's working
hours (``connector.core.availability``'s model: wall-clock ranges in the rep's IANA time
zone, overnight shifts belonging to the day they start on); outside them the clock is
paused. A rep without working hours works all the time, so their working time is wall
time; a rep whose hours are an empty week has no working time, and their clock counts
wall time rather than never coming due.

Rules, first to last:

- the deadline is the start plus D in the monitor's clock;
- a reminder at fraction f (0 < f < 1) is due once f * D has elapsed in that clock;
- escalation stage i (at most three) is due ``after_i`` past the deadline, in the same
  clock, and stages are taken in order, each once;
- a stage that reassigns restarts the clock for the new owner: a new start, a new
  deadline, its reminders again; the next stage is counted from the new deadline.

Everything here is pure: the store keeps the clock's counters (reminders sent, stages
done) and the scanner asks :func:`due` what to do now.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from .availability import _bounds, _overnight
from .distribution import RotationState
from .model import DistributionModel, Rep, RouterMember

MAX_STAGES = 3
MAX_REMINDERS = 5
#: the longest D a monitor takes: a year is far past any sales SLA, and it bounds the walk
#: through working hours
MAX_DURATION = timedelta(days=366)
#: how far ahead the working-time walk looks before giving up on a rep's hours
_HORIZON_DAYS = 800


class Condition(StrEnum):
    FIRST_TOUCH = "first_touch"
    STATUS_CHANGED = "status_changed"
    MEETING_BOOKED = "meeting_booked"


class ClockKind(StrEnum):
    WORKING = "working"
    WALL = "wall"


class Notify(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"


_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d{1,6})?)S)?)?$")


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds (``PT90S``,
    ``PT1H30M``, ``P2D``, ``P1W``). Years and months are refused: they have no fixed
    length, and an SLA must be exact. Raises ValueError naming what is wrong."""
    if not isinstance(text, str) or len(text) > 40:
        raise ValueError("must be an ISO 8601 duration such as PT15M")
    match = _DURATION.match(text.strip().upper())
    if match is None:
        raise ValueError("must be an ISO 8601 duration of weeks, days, hours, minutes or "
                         "seconds, such as PT15M or P1DT2H (years and months have no fixed "
                         "length)")
    parts = {k: float(v.replace(",", ".")) for k, v in match.groupdict().items() if v}
    value = timedelta(**parts)
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    if value > MAX_DURATION:
        raise ValueError("must be at most 366 days")
    return value


def format_duration(value: timedelta) -> str:
    """The ISO 8601 form of ``value`` (days, hours, minutes, seconds)."""
    total = int(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + \
        (f"{seconds}S" if seconds else "")
    return out + ("T" + clock if clock else ("" if days else "T0S"))


@dataclass(frozen=True)
class Stage:
    """An escalation stage: due ``after`` past the deadline."""

    after: timedelta = timedelta(0)
    notify: tuple[Notify, ...] = (Notify.OWNER,)
    reassign: bool = False
    set_away: bool = False


@dataclass(frozen=True)
class Monitor:
    condition: Condition
    duration: timedelta
    clock: ClockKind = ClockKind.WORKING
    #: fractions of ``duration`` at which the owner is reminded, ascending, in (0, 1)
    reminders: tuple[float, ...] = ()
    stages: tuple[Stage, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Due:
    """What the scanner does now for one clock."""

    #: indices of reminders due now (missed ones too, so none is skipped silently)
    reminders: tuple[int, ...] = ()
    #: the escalation stage due now, or None
    stage: int | None = None
    #: when to look at this clock next; None when nothing is left to do
    next_check: datetime | None = None
    #: whether the deadline has passed
    breached: bool = False


# -- working time -----------------------------------------------------------------------

def _local(day: date, at: time | None, zone: ZoneInfo) -> datetime:
    if at is None:  # "24:00": the end of the day
        return datetime.combine(day + timedelta(days=1), time(0), zone)
    return datetime.combine(day, at, zone)


def _day_intervals(rep: Rep, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The working intervals of the shifts listed under ``day`` (an overnight shift runs
    into the next day)."""
    assert rep.working_hours is not None
    out = []
    for span in rep.working_hours.get(day.weekday(), ()):
        start, end = _bounds(span)
        begin = _local(day, start, zone)
        finish = _local(day + timedelta(days=1), end, zone) if _overnight(start, end) \
            else _local(day, end, zone)
        if finish > begin:
            out.append((begin, finish))
    return out


def _intervals(rep: Rep, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The rep's working intervals that end after ``since``, in order and merged."""
    zone = ZoneInfo(rep.timezone)
    day = since.astimezone(zone).date() - timedelta(days=1)
    pending: tuple[datetime, datetime] | None = None
    for _ in range(_HORIZON_DAYS):
        for begin, finish in sorted(_day_intervals(rep, day, zone)):
            if finish <= since:
                continue
            if pending is not None and begin <= pending[1]:
                pending = (pending[0], max(pending[1], finish))
                continue
            if pending is not None:
                yield pending
            pending = (begin, finish)
        day += timedelta(days=1)
    if pending is not None:
        yield pending


def _works_all_the_time(rep: Rep | None) -> bool:
    return rep is None or rep.working_hours is None


def _no_hours(rep: Rep) -> bool:
    return rep.working_hours is not None and not any(rep.working_hours.values())


def add_time(start: datetime, amount: timedelta, rep: Rep | None,
             clock: ClockKind) -> datetime:
    """The moment ``amount`` of ``clock`` time has passed since ``start``. In working time
    the clock runs only inside the rep's hours: 30 minutes of working time started at
    16:50 for a 09:00-17:00 rep ends at 09:20 on their next working day."""
    if clock == ClockKind.WALL or _works_all_the_time(rep) or _no_hours(rep):
        return start + amount
    assert rep is not None
    left = amount
    for begin, finish in _intervals(rep, start):
        begin = max(begin, start)
        if finish - begin >= left:
            return begin + left
        left -= finish - begin
    return start + amount  # hours that never add up within the horizon: wall time


def elapsed(start: datetime, now: datetime, rep: Rep | None, clock: ClockKind) -> timedelta:
    """How much ``clock`` time has passed between ``start`` and ``now``."""
    if now <= start:
        return timedelta(0)
    if clock == ClockKind.WALL or _works_all_the_time(rep) or _no_hours(rep):
        return now - start
    assert rep is not None
    total = timedelta(0)
    for begin, finish in _intervals(rep, start):
        if begin >= now:
            break
        total += min(finish, now) - max(begin, start)
    return total


# -- what is due ------------------------------------------------------------------------

def deadline(monitor: Monitor, start: datetime, rep: Rep | None) -> datetime:
    return add_time(start, monitor.duration, rep, monitor.clock)


def reminder_times(monitor: Monitor, start: datetime, rep: Rep | None) -> list[datetime]:
    return [add_time(start, monitor.duration * f, rep, monitor.clock)
            for f in monitor.reminders]


def stage_time(monitor: Monitor, index: int, due_at: datetime, rep: Rep | None) -> datetime:
    """When stage ``index`` is due, counted from the current owner's deadline."""
    return add_time(due_at, monitor.stages[index].after, rep, monitor.clock)


def due(monitor: Monitor, *, start: datetime, deadline_at: datetime, rep: Rep | None,
        reminders_sent: int, stages_done: int, now: datetime) -> Due:
    """The reminders and the stage due at ``now`` for a running clock, and when to look
    again (the next reminder, stage or the deadline). Reminders already sent
    (``reminders_sent`` of them, in order) and stages done are never due again; a
    reminder whose time falls past the deadline is not sent."""
    times = reminder_times(monitor, start, rep)
    pending = [i for i in range(reminders_sent, len(times)) if times[i] < deadline_at]
    reminders = tuple(i for i in pending if times[i] <= now)
    later = [times[i] for i in pending if times[i] > now]
    stage = None
    if stages_done < len(monitor.stages):
        at = stage_time(monitor, stages_done, deadline_at, rep)
        if at <= now:
            stage = stages_done
        # a stage due now stays the next check until it is done
        later.append(at)
    if now < deadline_at:
        later.append(deadline_at)  # the breach itself, even with no stage to run
    return Due(reminders, stage, min(later) if later else None, now >= deadline_at)


def left(deadline_at: datetime, now: datetime, rep: Rep | None,
         clock: ClockKind) -> timedelta:
    """The SLA time left at ``now`` (negative once past the deadline), in ``clock``."""
    if now <= deadline_at:
        return elapsed(now, deadline_at, rep, clock)
    return -elapsed(deadline_at, now, rep, clock)


def fractions(values: Sequence[float]) -> tuple[float, ...]:
    """Reminder fractions checked and sorted; raises ValueError naming what is wrong."""
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0 < value < 1:
            raise ValueError("each reminder must be a fraction of the duration between 0 "
                             "and 1 (exclusive), such as 0.5")
        out.append(float(value))
    if len(out) > MAX_REMINDERS:
        raise ValueError(f"at most {MAX_REMINDERS} reminders")
    if len(set(out)) != len(out):
        raise ValueError("reminders must differ")
    return tuple(sorted(out))


def credit_back(model: DistributionModel, state: RotationState, rep_id: str,
                members: Sequence[RouterMember]) -> RotationState:
    """The rotation after a rep's record was taken away by an SLA reassignment: in the
    weighted model the pick had cost the rep the sum of the weights, which is given back
    (with everyone's weight now), so the rep is owed that record. Round robin and load
    balancing keep their state here: the rotation moves by position, and handing a turn
    back would shift everyone else's; round robin's turn is paid through the fairness
    ledger, and load balancing stops counting the record in its window."""
    if model != DistributionModel.WEIGHTED or rep_id not in state.current_weights:
        return state
    total = sum(max(m.weight, 0) for m in members)
    weights = dict(state.current_weights)
    weights[rep_id] += total
    return RotationState(state.last_position, weights)
