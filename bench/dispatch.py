#!/usr/bin/env python3
"""Dispatch throughput and latency: the core alone, and through HTTP + SQLite.

For 10, 100 and 1,000 users in a round-robin router, measures

* ``core``: ``connector.core.engine.decide`` on in-memory state (what routing itself costs),
* ``http+sqlite``: ``POST /dispatch/router`` over real HTTP to the app on a SQLite file
  (lock, load, decide, persist the decision and counters, answer),

next to the cost of the simplest possible pick, ``next(itertools.cycle(users))``, measured
in the same run, so the table says what the rules, the audit trail and the HTTP cost over
"just take the next one".

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


def bench_core(users: int, n: int) -> list[float]:
    reps = {f"r{i}": CoreRep(id=f"r{i}", email=f"rep{i}@example.com") for i in range(users)}
    settings = RouterSettings(members=tuple(RouterMember(rep_id=f"r{i}", position=i)
                                            for i in range(users)))
    account = Account(id="a", name="Bench")
    router = Router(id="x", account_id="a", name="R", object_type="contact", published=True,
                    settings=settings)
    obj = RoutableObject(id="o", object_type="contact", fields={"country": "NO"})
    state = RouterState()
    now = datetime.now(UTC)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        decision = decide(account=account, router=router, obj=obj, reps=reps, state=state,
                          now=now)
        samples.append(time.perf_counter() - start)
        state = RouterState(rotation=decision.new_rotation or RotationState())
    return samples


def _seed(container, users: int, objects: int) -> tuple[str, str, list[str]]:
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


def bench_http(users: int, n: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(database_url=f"sqlite:///{tmp}/bench.db", executor="inline",
                        jwt_secret=SECRET)
        container = bootstrap(config)
        try:
            account_id, router_id, object_ids = _seed(container, users, n)
            app = create_app(container=container)
            headers = {"Authorization": f"Bearer {issue_token(SECRET, account_id)}"}
            samples = []
            with served(app) as url, requests.Session() as http:
                for object_id in object_ids:
                    start = time.perf_counter()
                    reply = http.post(f"{url}/dispatch/router", headers=headers,
                                      json={"router_id": router_id, "object_id": object_id})
                    samples.append(time.perf_counter() - start)
                    if reply.status_code != 200 or not reply.json().get("success"):
                        raise SystemExit(f"dispatch failed: {reply.status_code} {reply.text}")
            return samples
        finally:
            container.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--core", type=int, default=5000, help="core decisions per size")
    parser.add_argument("--http", type=int, default=500, help="HTTP dispatches per size")
    parser.add_argument("--users", default="10,100,1000")
    args = parser.parse_args()

    rows = []
    for users in [int(u) for u in args.users.split(",")]:
        cycle = bench_cycle(users, args.core)
        measured = [("itertools.cycle", cycle, args.core),
                    ("core", bench_core(users, args.core), args.core),
                    ("http+sqlite", bench_http(users, args.http), args.http)]
        base = sum(cycle) / len(cycle)
        for name, samples, count in measured:
            mean = sum(samples) / len(samples)
            rows.append([users, name, count, f"{1 / mean:,.0f}",
                         f"{percentile(samples, 50) * 1e6:,.1f}",
                         f"{percentile(samples, 99) * 1e6:,.1f}", f"{mean / base:,.0f}x"])
    print_table(["users", "path", "n", "per s", "p50 us", "p99 us", "vs cycle"], rows)


if __name__ == "__main__":
    main()
