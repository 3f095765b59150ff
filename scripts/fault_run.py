#!/usr/bin/env python
"""Proof that nothing is lost: real processes on 127.0.0.1 under injected faults.

PostgreSQL mode (default): a fresh database (CREATE DATABASE), a private Redis (broker and
shared call budget), 2 gunicorn workers, 2 Celery workers, and the fake HubSpot in its own
process answering 20% 5xx, with 429 storms and 3-second stalls. N contact-creation events
are sent as signed webhook batches, each batch delivered three times (as HubSpot retries),
while one worker is killed with SIGKILL mid-batch, Redis is restarted (empty), and the other
worker is killed mid-batch. ``--sqlite``: the same against ``connector serve`` (in-process
executor) on SQLite, killed with SIGKILL mid-run and restarted once.

Afterwards it prints the counts: records with exactly one owner written, duplicate
assignments, round-robin spread, caps exceeded, events done / dead (with reasons) / lost.
Exit status 0 only if nothing was lost or duplicated and fairness held.

    python scripts/fault_run.py --events 20000
    python scripts/fault_run.py --sqlite --events 2000
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from sqlalchemy import create_engine, func, select  # noqa: E402

from scripts import stack  # noqa: E402

UNCAPPED = ["ana@example.com", "ben@example.com", "cy@example.com"]
CAPPED = "dee@example.com"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Inbox:
    """Read-only views of the run's database."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, pool_size=2)

    def statuses(self, kind: str | None = None) -> Counter[str]:
        from connector.store.models import InboxEventRow

        query = select(InboxEventRow.status, func.count()).group_by(InboxEventRow.status)
        if kind:
            query = query.where(InboxEventRow.kind == kind)
        with self.engine.connect() as conn:
            return Counter(dict(conn.execute(query).all()))

    def dead_reasons(self) -> Counter[str]:
        from connector.store.models import InboxEventRow

        with self.engine.connect() as conn:
            rows = conn.execute(select(InboxEventRow.last_error, func.count())
                                .where(InboxEventRow.status == "dead")
                                .group_by(InboxEventRow.last_error)).all()
        return Counter({(error or "")[:120]: n for error, n in rows})

    def assignments(self) -> tuple[Counter[str], Counter[str], Counter[str]]:
        """(assignments per rep, assignments per object, sync statuses of assignments)."""
        from connector.store.models import DecisionRow

        with self.engine.connect() as conn:
            rows = conn.execute(select(DecisionRow.rep_id, DecisionRow.object_id,
                                       DecisionRow.sync_status)
                                .where(DecisionRow.assigned.is_(True))).all()
        return (Counter(r[0] for r in rows), Counter(r[1] for r in rows),
                Counter(r[2] for r in rows))

    def unfinished_syncs(self) -> int:
        from connector.store.models import DecisionRow

        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(DecisionRow).where(
                DecisionRow.assigned.is_(True),
                DecisionRow.sync_status.in_(("pending", "failed"))))


class Deliverer:
    """Sends signed batches like HubSpot: retried until acknowledged (2xx)."""

    def __init__(self, url: str, deadline: float) -> None:
        from adapters.hubspot.fake_server import WebhookSender

        self.sender = WebhookSender(url, stack.CLIENT_SECRET, timeout=30)
        self.deadline = deadline
        self.acked = 0
        self.retries = 0
        self.failed = 0
        self._lock = threading.Lock()

    def deliver(self, batch: list[dict[str, Any]], not_before: float = 0.0) -> None:
        if not_before > time.monotonic():
            time.sleep(not_before - time.monotonic())
        while time.monotonic() < self.deadline:
            try:
                if self.sender.send(batch).status_code == 204:
                    with self._lock:
                        self.acked += 1
                    return
            except requests.RequestException:
                pass
            with self._lock:
                self.retries += 1
            time.sleep(0.5)
        with self._lock:
            self.failed += 1


def make_deliveries(ids: list[str], portal_id: int, app_id: int, copies: int,
                    rng: random.Random) -> list[list[dict[str, Any]]]:
    from adapters.hubspot.fake_server import make_event

    base = int(time.time() * 1000)
    events = [make_event("contact.creation", int(record_id), portal_id=portal_id,
                         app_id=app_id, event_id=n + 1, occurred_at=base + n)
              for n, record_id in enumerate(ids)]
    batches = [events[i:i + 100] for i in range(0, len(events), 100)]
    deliveries = [[{**e, "attemptNumber": copy} for e in batch]
                  for batch in batches for copy in range(copies)]
    rng.shuffle(deliveries)
    return deliveries


class FaultDriver(threading.Thread):
    """Two-second 429 storms and 3-second stalls in turn, every few seconds."""

    def __init__(self, fake: stack.FakeHubSpotProcess, every: float = 6.0) -> None:
        super().__init__(daemon=True)
        self.fake, self.every = fake, every
        self.stop_event = threading.Event()
        self.storms = self.stalls = 0

    def run(self) -> None:
        turn = 0
        while not self.stop_event.wait(self.every):
            try:
                if turn % 2 == 0:  # a storm: every call answered 429 for two seconds
                    self.fake.faults(force_429=10**9)
                    self.stop_event.wait(2.0)
                    self.fake.faults(force_429=0)
                    self.storms += 1
                else:
                    self.fake.faults(stall_calls=4, stall_seconds=3.0)
                    self.stalls += 1
            except Exception:  # noqa: BLE001 - the run's end closes the pipe
                return
            turn += 1


def wait_mid_batch(inbox: Inbox, timeout: float = 60) -> int:
    """Wait until batches are being processed; returns how many events are leased."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leased = inbox.statuses("hubspot").get("processing", 0)
        if leased:
            return leased
        time.sleep(0.05)
    return 0


def progress(inbox: Inbox, total: int) -> float:
    counts = inbox.statuses("hubspot")
    return (counts.get("done", 0) + counts.get("dead", 0)) / max(total, 1)


def settled(inbox: Inbox, total: int) -> bool:
    counts = inbox.statuses()
    hubspot = inbox.statuses("hubspot")
    busy = counts.get("pending", 0) + counts.get("processing", 0) + counts.get("failed", 0)
    terminal = hubspot.get("done", 0) + hubspot.get("dead", 0)
    return busy == 0 and terminal >= total and inbox.unfinished_syncs() == 0


def report(args: argparse.Namespace, inbox: Inbox, fake: stack.FakeHubSpotProcess,
           tenant: dict[str, Any], ids: list[str], deliverer: Deliverer, extra: dict[str, Any],
           cap: int, elapsed: float) -> bool:
    seen = fake.report()
    writes, owners, written = seen["writes"], seen["owners"], seen["written_owners"]
    exactly_one = sum(1 for i in ids if owners.get(i) and set(written.get(i, [])) == {owners[i]})
    no_owner = sum(1 for i in ids if not owners.get(i))
    conflicting = sum(1 for i in ids if len(set(written.get(i, []))) > 1)
    rewritten = sum(1 for i in ids if writes.get(i, 0) > 1)
    per_rep, per_object, sync = inbox.assignments()
    duplicates = sum(n - 1 for n in per_object.values() if n > 1)
    names = {rep_id: email for email, rep_id in tenant["rep_ids"].items()}
    spread_counts = [per_rep.get(tenant["rep_ids"][e], 0) for e in UNCAPPED]
    capped = per_rep.get(tenant["rep_ids"][CAPPED], 0)
    caps_exceeded = max(0, capped - cap)
    statuses = inbox.statuses("hubspot")
    done, dead = statuses.get("done", 0), statuses.get("dead", 0)
    lost = len(ids) - done - dead + deliverer.failed
    ok = (lost == 0 and duplicates == 0 and caps_exceeded == 0 and conflicting == 0
          and max(spread_counts) - min(spread_counts) <= 1
          and exactly_one + dead == len(ids))
    rows = [
        ("mode", "sqlite + in-process executor" if args.sqlite else
         "postgresql + celery (2 gunicorn, 2 workers)"),
        ("events (unique)", len(ids)),
        ("deliveries (each batch x3)", f"{deliverer.acked} acked, {deliverer.retries} "
                                       f"re-sent after an error, {deliverer.failed} never acked"),
        ("records with exactly one owner written", exactly_one),
        ("records with no owner in HubSpot", no_owner),
        ("records written with two different owners", conflicting),
        ("records whose same owner was sent twice (write in flight at a kill)", rewritten),
        ("duplicate assignments", duplicates),
        ("round robin (uncapped reps)", " / ".join(
            f"{names[tenant['rep_ids'][e]].split('@')[0]} {n}"
            for e, n in zip(UNCAPPED, spread_counts, strict=True))),
        ("round robin spread (max-min)", max(spread_counts) - min(spread_counts)),
        (f"capped rep (daily cap {cap})", capped),
        ("caps exceeded", caps_exceeded),
        ("events done", done),
        ("events dead (dead letter)", dead),
        ("events lost", lost),
        ("write-backs by status", dict(sync)),
        ("faults: 429s answered", seen["rate_limited"]),
        ("faults", ", ".join(f"{k} {v}" for k, v in extra.items())),
        ("elapsed", f"{elapsed:.1f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    for reason, n in inbox.dead_reasons().most_common(5):
        print(f"{'dead reason':<{width}}  {n} x {reason}")
    print(f"{'RESULT':<{width}}  {'OK: nothing lost or duplicated' if ok else 'FAILED'}")
    return ok


def run(args: argparse.Namespace) -> bool:
    rng = random.Random(args.seed)
    logdir = Path(args.logdir or tempfile.mkdtemp(prefix="fault-run-"))
    logdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    deadline = started + args.timeout
    cap = max(5, args.events // 20)
    budget = max(1, args.rate_limit * 9 // 10)  # a margin under the CRM's limit
    log(f"logs in {logdir}")
    fake = stack.FakeHubSpotProcess(args.events, [*UNCAPPED, CAPPED],
                                    rate_limit=args.rate_limit)
    info = fake.info
    redis = database_url = None
    procs: dict[str, Any] = {}
    extra: dict[str, Any] = Counter()
    try:
        port = stack.free_port()
        if args.sqlite:
            database_url = f"sqlite:///{logdir / 'connector.db'}"
            env = stack.connector_env(database_url, info, CONNECTOR_EXECUTOR="threads",
                                      CONNECTOR_WORKER_THREADS="4",
                                      CONNECTOR_LEASE_SECONDS=str(args.lease),
                                      CONNECTOR_SWEEP_SECONDS="1",
                                      CONNECTOR_RETRY_SCHEDULE=args.retry_schedule,
                                      HUBSPOT_BURST_LIMIT=str(budget))
            stack.migrate(env)
            procs["serve"] = stack.start_serve(env, port, logdir)
        else:
            database_url = stack.create_database()
            redis = stack.PrivateRedis().start()
            env = stack.connector_env(database_url, info, CONNECTOR_EXECUTOR="celery",
                                      CELERY_BROKER_URL=redis.url, REDIS_URL=redis.url,
                                      CONNECTOR_CELERY_QUEUE=f"fault-{uuid.uuid4().hex[:8]}",
                                      CONNECTOR_LEASE_SECONDS=str(args.lease),
                                      CONNECTOR_SWEEP_SECONDS="2",
                                      CONNECTOR_RETRY_SCHEDULE=args.retry_schedule,
                                      HUBSPOT_BURST_LIMIT=str(budget))
            stack.migrate(env)
            procs["web"] = stack.start_gunicorn(env, port, logdir, workers=2)
            for name in ("worker1", "worker2"):
                procs[name] = stack.start_worker(env, name, logdir, concurrency=4)
        base = f"http://127.0.0.1:{port}"
        tenant = stack.setup_tenant(
            base, database_url, info,
            [{"email": e} for e in UNCAPPED] + [{"email": CAPPED, "daily_cap": cap}], {})
        inbox = Inbox(database_url)
        fake.faults(error_rate=0.2)
        driver = FaultDriver(fake)
        driver.start()

        deliveries = make_deliveries(info["ids"], info["portal_id"], info["app_id"],
                                     args.copies, rng)
        deliverer = Deliverer(base + "/webhooks/hubspot", deadline)
        log(f"sending {len(info['ids'])} events as {len(deliveries)} signed batches "
            f"(each batch x{args.copies})")
        pool = ThreadPoolExecutor(max_workers=10)
        step = args.send_seconds / max(len(deliveries), 1)
        t0 = time.monotonic()
        futures = [pool.submit(deliverer.deliver, batch, t0 + n * step)
                   for n, batch in enumerate(deliveries)]

        total = len(info["ids"])
        plan = ([(0.10, "kill-serve")] if args.sqlite else
                [(0.10, "kill-worker1"), (0.35, "restart-redis"), (0.60, "kill-worker2")])
        for threshold, action in plan:
            while progress(inbox, total) < threshold and time.monotonic() < deadline:
                time.sleep(0.2)
            leased = wait_mid_batch(inbox)
            if action.startswith("kill-"):
                name = action[5:]
                log(f"SIGKILL {name} with {leased} event(s) leased (progress "
                    f"{progress(inbox, total):.0%})")
                stack.stop(procs[name], signal.SIGKILL)
                extra[f"SIGKILL {name}"] += 1
                time.sleep(1.0)
                if name == "serve":
                    procs[name] = stack.start_serve(env, port, logdir)
                else:
                    procs[name] = stack.start_worker(env, name, logdir, concurrency=4)
                log(f"{name} restarted")
            else:
                log(f"restarting Redis (progress {progress(inbox, total):.0%}, "
                    f"{leased} leased)")
                redis.restart()
                extra["Redis restarts"] += 1
                log("Redis is back, empty")
        for future in futures:
            future.result(timeout=max(1, deadline - time.monotonic()))
        pool.shutdown()
        log(f"all deliveries acknowledged ({deliverer.retries} re-sent)")
        last = -1.0
        while time.monotonic() < deadline and not settled(inbox, total):
            now = progress(inbox, total)
            if now != last:
                log(f"progress {now:.1%}  inbox {dict(inbox.statuses())}")
                last = now
            time.sleep(2)
        driver.stop_event.set()
        driver.join(10)
        fake.faults(force_429=0, stall_calls=0, error_rate=0.0)
        extra["429 storms"], extra["3 s stalls"] = driver.storms, driver.stalls
        extra["5xx rate"] = "20%"
        return report(args, inbox, fake, tenant, info["ids"], deliverer, extra, cap,
                      time.monotonic() - started)
    finally:
        for proc in procs.values():
            stack.stop(proc)
        fake.stop()
        if redis is not None:
            redis.stop()
        if database_url and not args.sqlite and not args.keep:
            try:
                stack.drop_database(database_url)
            except Exception:  # noqa: BLE001 - cleanup only
                pass


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000, help="unique events (records)")
    parser.add_argument("--copies", type=int, default=3, help="deliveries of each batch")
    parser.add_argument("--sqlite", action="store_true",
                        help="SQLite and connector serve (in-process executor)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for the run")
    parser.add_argument("--lease", type=int, default=15, help="inbox lease seconds")
    parser.add_argument("--rate-limit", type=int, default=190,
                        help="fake HubSpot calls per 10 s per portal")
    parser.add_argument("--retry-schedule", default="2,5,10,20,30,60,120",
                        help="CONNECTOR_RETRY_SCHEDULE for the run (seconds)")
    parser.add_argument("--send-seconds", type=float, default=0.0,
                        help="spread the deliveries over this many seconds (0: at once)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--logdir", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    return parser.parse_args(argv)


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # run the cleanup in ``finally``


def main(argv: list[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    return 0 if run(parse(argv)) else 1


if __name__ == "__main__":
    sys.exit(main())
