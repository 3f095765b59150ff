#!/usr/bin/env python3
"""What SLA monitors cost: a dispatch on a router without a monitor, the same with a
monitor (the dispatch also starts a clock), and one scanner round per due clock (claim,
reminder, stage with a reassignment, in one transaction), on a SQLite file, in-process.

The ratios say what a monitor adds to an assignment, and what escalating a breach costs
next to the assignment itself.

    python bench/sla.py [--n 300] [--users 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import percentile, print_table  # noqa: E402
from bench.dispatch import _seed  # noqa: E402 - the same account, router and records
from connector.bootstrap import bootstrap  # noqa: E402
from connector.config import Config  # noqa: E402
from connector.service import sla  # noqa: E402
from connector.service.dispatch import dispatch  # noqa: E402

START = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _dispatches(container, account_id: str, router_id: str, ids: list[str]) -> list[float]:
    times = []
    for object_id in ids:
        t0 = time.perf_counter()
        dispatch(container.db, account_id, router_id, object_id, now=START)
        times.append(time.perf_counter() - t0)
    return times


def run(n: int, users: int) -> list[tuple[str, list[float]]]:
    with tempfile.TemporaryDirectory() as tmp:
        container = bootstrap(Config(database_url=f"sqlite:///{tmp}/bench.db",
                                     executor="inline"))
        try:
            account_id, router_id, ids = _seed(container, users, 2 * n)
            plain = _dispatches(container, account_id, router_id, ids[:n])
            sla.create_monitor(container.db, account_id, {
                "name": "m", "router_id": router_id, "condition": "first_touch",
                "duration": "PT10M", "clock": "working", "reminders": [0.5],
                "stages": [{"after": "PT0S", "notify": ["owner"], "reassign": True}],
                "manager_emails": [], "active": True})
            watched = _dispatches(container, account_id, router_id, ids[n:])
            later = START + timedelta(minutes=10)
            t0 = time.perf_counter()
            result = sla.scan(container.db, later, notify=lambda session, **kw: None,
                              limit=n)
            scan_total = time.perf_counter() - t0
            assert result.reassigned == n, result
            per_clock = [scan_total / n] * n
        finally:
            container.close()
    return [("dispatch, no monitor", plain), ("dispatch + clock start", watched),
            ("scan, per breach escalated (mean)", per_clock)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    rows = run(min(args.n, 2000), min(args.users, 1000))
    base = percentile(rows[0][1], 50)
    print(f"SLA monitors, {args.users} users, {args.n} records each, SQLite file, "
          "in-process")
    print_table(["operation", "p50 ms", "p90 ms", "x plain dispatch (p50)"], [
        (name, f"{percentile(t, 50) * 1000:.2f}", f"{percentile(t, 90) * 1000:.2f}",
         f"{percentile(t, 50) / base:.2f}") for name, t in rows])


if __name__ == "__main__":
    main()
