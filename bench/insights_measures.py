#!/usr/bin/env python3
"""The cost of the routing measures at their bound: ``routing_measures`` on N decisions
(the service reads at most 100,000 for one report), with a quarter of the records
reassigned, three activities per record and one SLA clock per assignment, grouped by
router, rep and day; next to ``sorted`` of the same decisions by time, measured in the
same run, so the ratio says what the measures cost over ordering the facts once.

    python bench/insights_measures.py [--decisions 100000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.core.insights import RoutingFact, SlaFact, routing_measures  # noqa: E402


def world(n: int):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    facts, touches, clocks = [], {}, []
    for i in range(n):
        record = f"o{i - i % 4 if i % 4 == 3 else i}"  # every 4th decision reassigns
        at = start + timedelta(seconds=25 * i)
        assigned = i % 20 != 0
        facts.append(RoutingFact(f"d{i}", f"r{i % 7}", record, f"u{i % 300}" if assigned
                                 else None, at, assigned, via_backup=i % 50 == 1))
        touches.setdefault(record, []).extend(at + timedelta(minutes=m) for m in (3, 40, 90))
        if assigned:
            clocks.append(SlaFact(f"u{i % 300}", record, at, at + timedelta(minutes=15),
                                  at + timedelta(minutes=3 + i % 30)))
    return facts, touches, clocks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=100_000)
    args = parser.parse_args()
    facts, touches, clocks = world(args.decisions)
    now = datetime(2026, 12, 2, tzinfo=UTC)
    t0 = time.perf_counter()
    sorted(facts, key=lambda f: (f.at, f.decision_id))
    base = time.perf_counter() - t0
    print(f"{args.decisions:,} decisions, {len(clocks):,} SLA clocks, "
          f"{sum(map(len, touches.values())):,} activities")
    print(f"{'group_by':<8} {'seconds':>8} {'x sort':>8}")
    for group_by in ("router", "rep", "day"):
        t0 = time.perf_counter()
        totals, groups = routing_measures(facts, touches, clocks, group_by=group_by, now=now)
        spent = time.perf_counter() - t0
        print(f"{group_by:<8} {spent:8.3f} {spent / base:8.1f}   ({len(groups)} groups, "
              f"p50 {totals['speed_to_lead_seconds']['p50']} s)")


if __name__ == "__main__":
    main()
