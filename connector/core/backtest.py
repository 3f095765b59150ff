"""Backtest: what a router version would have decided over past records, writing nothing.

The records are replayed in time order through :func:`connector.core.engine.decide`,
the same function the live path calls, with the router state advanced after every
assignment as the store would advance it: the rotation from the decision, one more on
the rep's day and week cap counters, one more in the load-balancing window (which slides
with the records' times, so an assignment leaves the window ``load_window_hours`` after
it was made). Assignments counted in the starting state's window are taken as made at
the first record's time.

What it cannot know is recorded as such: reps are judged with their availability as
given (today's status, working hours and out of office, unless the caller passes reps as
they were), and an assignment the backtest makes changes the state for the records after
it, exactly as it would have live.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .engine import RouterState, decide
from .model import Account, DistributionModel, Rep, RoutableObject, Router


@dataclass(frozen=True)
class PastRecord:
    """A record as it was when it was routed, and who actually got it (None: nobody)."""

    obj: RoutableObject
    at: datetime
    actual_rep_id: str | None = None


@dataclass(frozen=True)
class BacktestRow:
    record_id: str
    at: datetime
    outcome: str
    would_rep_id: str | None
    actual_rep_id: str | None

    @property
    def changed(self) -> bool:
        return self.would_rep_id != self.actual_rep_id


@dataclass(frozen=True)
class RepTally:
    rep_id: str
    would: int
    actual: int

    @property
    def difference(self) -> int:
        return self.would - self.actual


@dataclass(frozen=True)
class BacktestResult:
    rows: tuple[BacktestRow, ...]
    #: one line per rep who got or would get records, by rep id
    per_rep: tuple[RepTally, ...]
    #: how many records ended in each outcome ("assigned", "trigger_not_matched", ...)
    outcomes: Mapping[str, int]
    #: the router's state after the last record
    final_state: RouterState

    @property
    def changed(self) -> tuple[BacktestRow, ...]:
        return tuple(row for row in self.rows if row.changed)


class _SlidingWindow:
    """Assignments per rep within the last ``hours`` before a record's time."""

    def __init__(self, hours: int, start: Mapping[str, int], first_at: datetime) -> None:
        self.span = timedelta(hours=hours)
        self.events: deque[tuple[datetime, str]] = deque()
        self.counts: Counter[str] = Counter()
        for rep_id, n in start.items():
            for _ in range(n):
                self.add(first_at, rep_id)

    def add(self, at: datetime, rep_id: str) -> None:
        self.events.append((at, rep_id))
        self.counts[rep_id] += 1

    def slide_to(self, now: datetime) -> None:
        start = now - self.span
        while self.events and self.events[0][0] < start:
            _, rep_id = self.events.popleft()
            self.counts[rep_id] -= 1


def backtest(*, account: Account, router: Router, records: Sequence[PastRecord],
             reps: Mapping[str, Rep], state: RouterState = RouterState(),
             progress: Callable[[int, int], None] | None = None) -> BacktestResult:
    """Run ``router`` (a saved or a draft version) over ``records`` from ``state``.

    ``progress(done, total)`` is called every 500 records and at the end, for a
    progress bar. Nothing is written: the result is all there is.
    """
    ordered = sorted(records, key=lambda r: r.at)
    total = len(ordered)
    settings = router.settings
    rotation = state.rotation
    periods: Counter[tuple[str, str, str]] = Counter(state.period_counts)
    sliding = settings is not None and settings.model == DistributionModel.LOAD_BALANCED
    window = _SlidingWindow(settings.load_window_hours if settings else 0,
                            state.window_counts, ordered[0].at) if sliding and ordered \
        else None
    plain_window: Counter[str] = Counter(state.window_counts)
    rows: list[BacktestRow] = []
    outcomes: Counter[str] = Counter()
    for done, record in enumerate(ordered, start=1):
        if window is not None:
            window.slide_to(record.at)
        current = RouterState(rotation=rotation, period_counts=periods,
                              window_counts=window.counts if window else plain_window)
        decision = decide(account=account, router=router, obj=record.obj, reps=reps,
                          state=current, now=record.at)
        rep = decision.rep
        if rep is not None:
            rotation = decision.new_rotation or rotation
            for period, key in decision.periods.items():
                periods[(rep.id, period, key)] += 1
            if window is not None:
                window.add(record.at, rep.id)
            else:
                plain_window[rep.id] += 1
        outcomes[decision.outcome.name.lower()] += 1
        rows.append(BacktestRow(record.obj.id, record.at, decision.outcome.name.lower(),
                                rep.id if rep else None, record.actual_rep_id))
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)
    would = Counter(r.would_rep_id for r in rows if r.would_rep_id)
    actual = Counter(r.actual_rep_id for r in rows if r.actual_rep_id)
    per_rep = tuple(RepTally(rep_id, would[rep_id], actual[rep_id])
                    for rep_id in sorted(set(would) | set(actual)))
    final = RouterState(rotation=rotation, period_counts=dict(periods),
                        window_counts=dict(window.counts if window else plain_window))
    return BacktestResult(tuple(rows), per_rep, dict(outcomes), final)
