"""How fast a backtest replays records through the core, next to calling ``decide``
alone on the same records in the same run.

    python bench/backtest.py [--records 10000] [--reps 50]

Prints records per second for each distribution model (a trigger on one field, daily
caps, reps in three time zones), the time a 10,000-record backtest takes, and the ratio
of the backtest's rate to bare ``decide`` calls with a fixed state (the bookkeeping the
backtest adds: rotation, cap counters, sliding load window, the result rows).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from connector.core.backtest import PastRecord, backtest
from connector.core.engine import RouterState, decide
from connector.core.model import (
    Account,
    Condition,
    ConditionGroup,
    DistributionModel,
    Rep,
    RoutableObject,
    Router,
    RouterMember,
    RouterSettings,
    Trigger,
)

ZONES = ("UTC", "Europe/Berlin", "America/New_York")
START = datetime(2026, 11, 2, tzinfo=UTC)


def world(model: DistributionModel, reps: int, records: int):
    people = {f"r{i}": Rep(f"r{i}", f"r{i}@x.io", timezone=ZONES[i % 3]) for i in range(reps)}
    members = tuple(RouterMember(r, i, weight=1 + i % 3, daily_cap=400)
                    for i, r in enumerate(people))
    trigger = Trigger((ConditionGroup((Condition("country", "in", ["DE", "AT", "CH"]),)),))
    router = Router("rt", "acc", "DACH", "contact", published=True,
                    settings=RouterSettings(members, model=model, trigger=trigger))
    past = [PastRecord(RoutableObject(f"o{n}", "contact",
                                      {"country": "FR" if n % 10 == 0 else "DE"}),
                       START + timedelta(seconds=30 * n), f"r{n % reps}")
            for n in range(records)]
    return Account("acc", "Acme"), router, people, past


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--reps", type=int, default=50)
    args = parser.parse_args()
    print(f"{args.records:,} records, {args.reps} reps")
    for model in DistributionModel:
        account, router, reps, past = world(model, args.reps, args.records)
        start = time.perf_counter()
        result = backtest(account=account, router=router, records=past, reps=reps)
        took = time.perf_counter() - start
        state = RouterState()
        start = time.perf_counter()
        for record in past:
            decide(account=account, router=router, obj=record.obj, reps=reps, state=state,
                   now=record.at)
        bare = time.perf_counter() - start
        print(f"{model.value:>14}: backtest {args.records / took:,.0f} records/s "
              f"({took:.2f} s), bare decide {args.records / bare:,.0f} records/s, "
              f"ratio {bare / took:.2f}; {len(result.changed):,} changed")


if __name__ == "__main__":
    main()
