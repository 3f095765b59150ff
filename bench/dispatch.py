#!/usr/bin/env python3
"""Dispatch throughput and latency: the core alone, and through HTTP + SQLite.

For 10, 100 and 1,000 users in a round-robin router, measures

* ``core``: ``connector.core.engine.decide`` on in-memory state (what routing itself costs),
  next to the simplest possible pick, ``next(itertools.cycle(users))``; and the core's time
  at the largest size as a multiple of its time at the smallest;
* ``http+sqlite``: ``POST /dispatch/router`` one at a time over real HTTP to the app on a
  SQLite file, served as ``connector serve`` serves it (waitress), alternating, request by
  request, with a bare Flask endpoint under the same server doing one SQLite write
  transaction (``bench/bare_app.py``); the ratio of the two rates is the figure, so the
  load of the machine cancels out.

    python bench/dispatch.py [--core N] [--http N] [--users 10,100,1000]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from bench.bare_app import create_write_app  # noqa: E402
from bench.common import percentile, print_table, served  # noqa: E402
from connector.bootstrap import bootstrap  # noqa: E402
from connector.config import Config  # noqa: E402
from connector.core.distribution import RotationState  # noqa: E402
from connector.core.engine import RouterState, decide  # noqa: E402
from connector.core.model import (  # noqa: E402
    Account,
    RoutableObject,
    Router,
    RouterMember,
    RouterSettings,
)
from connector.core.model import Rep as CoreRep  # noqa: E402
from connector.store.models import AccountRow, ObjectRow, RepRow, RouterRow  # noqa: E402
from connector.web import create_app  # noqa: E402
from connector.web.auth import issue_token  # noqa: E402

SECRET = "bench-" + "s" * 32


def bench_cycle(users: int, n: int) -> list[float]:
    pool = itertools.cycle([f"rep{i}" for i in range(users)])
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        next(pool)
        samples.append(time.perf_counter() - start)
    return samples


def _core_setup(users: int):
    reps = {f"r{i}": CoreRep(id=f"r{i}", email=f"rep{i}@example.com") for i in range(users)}
    settings = RouterSettings(members=tuple(RouterMember(rep_id=f"r{i}", position=i)
                                            for i in range(users)))
    account = Account(id="a", name="Bench")
    router = Router(id="x", account_id="a", name="R", object_type="contact", published=True,
                    settings=settings)
    obj = RoutableObject(id="o", object_type="contact", fields={"country": "NO"})
    return account, router, obj, reps


def bench_core(users: int, n: int, state: RouterState | None = None
               ) -> tuple[list[float], RouterState]:
    """Seconds per decision, and the state after the last (to go on from there)."""
    account, router, obj, reps = _CORE.setdefault(users, _core_setup(users))
    state = state or RouterState()
    now = datetime.now(UTC)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        decision = decide(account=account, router=router, obj=obj, reps=reps, state=state,
                          now=now)
        samples.append(time.perf_counter() - start)
        state = RouterState(rotation=decision.new_rotation or RotationState())
    return samples, state


_CORE: dict = {}


def core_ratio(small: int, large: int, n: int, rounds: int = 10) -> float:
    """Median decision time at ``large`` users over the median at ``small``, measured in
    alternating rounds so that the load of the machine weighs on both alike."""
    samples: dict[int, list[float]] = {small: [], large: []}
    states: dict[int, RouterState | None] = {small: None, large: None}
    for _ in range(rounds):
        for users in (small, large):
            got, states[users] = bench_core(users, max(1, n // rounds), states[users])
            samples[users] += got
    return percentile(samples[large], 50) / percentile(samples[small], 50)


def seed_router(container, users: int, objects: int) -> tuple[str, str, list[str]]:
    with container.db.session() as session:
        account = AccountRow(name="Bench")
        session.add(account)
        session.flush()
        reps = [RepRow(account_id=account.id, email=f"rep{i}@example.com", out_of_office=[],
                       crm_ids={}) for i in range(users)]
        session.add_all(reps)
        session.flush()
        router = RouterRow(account_id=account.id, name="All", object_type="contact",
                           published=True, current_weights={},
                           settings={"users": [{"user_id": r.id, "position": i, "weight": 1}
                                               for i, r in enumerate(reps)]})
        session.add(router)
        rows = [ObjectRow(account_id=account.id, object_type="contact", fields={"n": i})
                for i in range(objects)]
        session.add_all(rows)
        session.flush()
        return account.id, router.id, [r.id for r in rows]


def bench_http(users: int, n: int) -> tuple[list[float], list[float]]:
    """Seconds per ``POST /dispatch/router`` and per bare write, taken in turns."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(database_url=f"sqlite:///{tmp}/bench.db", executor="inline",
                        jwt_secret=SECRET)
        container = bootstrap(config)
        try:
            account_id, router_id, object_ids = seed_router(container, users, n)
            app = create_app(container=container)
            headers = {"Authorization": f"Bearer {issue_token(SECRET, account_id)}"}
            dispatches, writes = [], []
            with served(app, waitress=True) as url, \
                    served(create_write_app(f"{tmp}/bare.db"), waitress=True) as bare, \
                    requests.Session() as http:
                for object_id in object_ids:
                    start = time.perf_counter()
                    reply = http.post(f"{url}/dispatch/router", headers=headers,
                                      json={"router_id": router_id, "object_id": object_id})
                    dispatches.append(time.perf_counter() - start)
                    if reply.status_code != 200 or not reply.json().get("success"):
                        raise SystemExit(f"dispatch failed: {reply.status_code} {reply.text}")
                    start = time.perf_counter()
                    reply = http.post(f"{bare}/write", headers=headers,
                                      json={"router_id": router_id, "object_id": object_id})
                    writes.append(time.perf_counter() - start)
                    if reply.status_code != 200:
                        raise SystemExit(f"bare write failed: {reply.status_code}")
            return dispatches, writes
        finally:
            container.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--core", type=int, default=5000, help="core decisions per size")
    parser.add_argument("--http", type=int, default=500, help="HTTP dispatches per size")
    parser.add_argument("--users", default="10,100,1000")
    args = parser.parse_args()

    sizes = [int(u) for u in args.users.split(",")]
    rows, ratios = [], []
    for users in sizes:
        cycle = bench_cycle(users, args.core)
        core = bench_core(users, args.core)[0]
        dispatches, writes = bench_http(users, args.http)
        ratios.append((users, len(writes) / sum(writes), len(dispatches) / sum(dispatches)))
        base = sum(cycle) / len(cycle)
        for name, samples, count in [("itertools.cycle", cycle, args.core),
                                     ("core", core, args.core),
                                     ("http+sqlite", dispatches, args.http),
                                     ("bare write (waitress)", writes, args.http)]:
            mean = sum(samples) / len(samples)
            rows.append([users, name, count, f"{1 / mean:,.0f}",
                         f"{percentile(samples, 50) * 1e6:,.1f}",
                         f"{percentile(samples, 99) * 1e6:,.1f}", f"{mean / base:,.0f}x"])
    print_table(["users", "path", "n", "per s", "p50 us", "p99 us", "vs cycle"], rows)
    print()
    small, large = min(sizes), max(sizes)
    print(f"core decision time (median), {large:,} users / {small:,} users, in alternating "
          f"rounds: {core_ratio(small, large, args.core):.2f}x (goal <= 2x)")
    for users, bare_rate, dispatch_rate in ratios:
        print(f"POST /dispatch/router / bare write, {users:,} users: "
              f"{dispatch_rate:,.0f} / {bare_rate:,.0f} per s = "
              f"{dispatch_rate / bare_rate:.2f} (goal >= 0.5)")

if __name__ == "__main__":
    main()
