"""HubSpot end to end against the fake at HubSpot's 10-second limit; prints figures.

    python bench/hubspot_e2e.py              # 10,000 contact.creation events
    python bench/hubspot_e2e.py --events 500 # a quick run
    python bench/hubspot_e2e.py --ingest journal  # no webhooks: the connector polls
                                                  # HubSpot's webhooks journal

The fake allows 190 requests per rolling 10 s (answering 429 above that). Events are
delivered the way HubSpot does: signed batches of 100, 10 requests at a time. The
connector runs in-process (web app on 127.0.0.1, threads executor, SQLite file).
With ``--ingest journal`` the same events are published to the fake's webhooks journal
(entries of 100 events) and the connector reads them with its journal poller; journal
reads are exempt from HubSpot's rate limit and are counted apart.
"""

from __future__ import annotations

import argparse
import logging
import math
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, select
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database  # noqa: E402
from connector.bootstrap import bootstrap, hubspot_fakes  # noqa: E402
from connector.config import Config  # noqa: E402
from connector.store.models import DecisionRow, InboxEventRow, RepRow, RouterRow  # noqa: E402
from connector.web import create_app  # noqa: E402

RATE_LIMIT, WINDOW, BATCH, CONCURRENCY = 190, 10.0, 100, 10


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def floor_seconds(events: int) -> float:
    """The least time HubSpot's limit allows for the calls the work needs at minimum: one
    batch read and one batch update per 100 records, plus one owners page."""
    calls = 2 * math.ceil(events / BATCH) + 1
    return (calls - 1) // RATE_LIMIT * WINDOW


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--workers", type=int, default=4, help="executor threads")
    parser.add_argument("--ingest", choices=("webhooks", "journal"), default="webhooks",
                        help="how the events come in (CONNECTOR_HUBSPOT_INGEST)")
    parser.add_argument("--postgres", metavar="ADMIN_URL", nargs="?",
                        const="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="run on a fresh PostgreSQL database (dropped afterwards) "
                             "instead of a SQLite file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    FakeHubSpot, WebhookSender, make_event = hubspot_fakes()

    with tempfile.TemporaryDirectory(prefix="hubspot-bench-") as tmp, \
            database(args.postgres, tmp, "hubspot_bench") as database_url, \
            FakeHubSpot(rate_limit=RATE_LIMIT, rate_window=WINDOW,
                        client_secret=(secret := secrets.token_urlsafe(24))) as fake:
        config = Config(database_url=database_url, executor="threads",
                        worker_threads=args.workers, sweep_interval_seconds=1,
                        jwt_secret=secrets.token_urlsafe(32), secret_key=secrets.token_urlsafe(32),
                        hubspot_client_secret=secret, hubspot_access_token=fake.token,
                        hubspot_api_base=fake.url, hubspot_app_id=str(fake.app_id),
                        hubspot_burst_limit=RATE_LIMIT, hubspot_ingest=args.ingest,
                        hubspot_client_id=fake.client_id, hubspot_journal_poll_seconds=1)
        container = bootstrap(config, start_executor=True)
        server = make_server("127.0.0.1", 0, create_app(container=container), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/webhooks/hubspot"
        try:
            return _run(args, fake, container, url, secret, WebhookSender, make_event)
        finally:
            server.shutdown()
            container.close()


def _setup(container, fake, reps: int) -> None:
    from connector.store.models import AccountRow

    with container.db.session() as session:
        account = AccountRow(name="Bench", active=True)
        session.add(account)
        session.flush()
        users = []
        for i in range(reps):
            email = f"rep{i}@bench.example"
            fake.add_owner(email)
            rep = RepRow(account_id=account.id, email=email, out_of_office=[], crm_ids={})
            session.add(rep)
            session.flush()
            users.append({"user_id": rep.id, "weight": 1, "position": i})
        session.add(RouterRow(account_id=account.id, name="Bench", object_type="contact",
                              published=True, current_weights={},
                              settings={"users": users, "distribution": "round_robin"}))
        account_id = account.id
    container.extras["hubspot"].portals.connect(str(fake.portal_id), account_id)


def _stored(container) -> int:
    with container.db.session() as session:
        return session.scalar(select(func.count()).select_from(InboxEventRow).where(
            InboxEventRow.kind == "hubspot"))


def _run(args, fake, container, url, secret, WebhookSender, make_event) -> int:
    _setup(container, fake, args.reps)
    ids = [fake.create_object("contacts", {"email": f"lead{i}@bench.example"})
           for i in range(args.events)]
    events = [make_event("contact.creation", int(i), portal_id=fake.portal_id) for i in ids]
    latencies: list[float] = []
    lock = threading.Lock()

    class TimedSender(WebhookSender):
        def send(self, batch):
            t0 = time.perf_counter()
            response = super().send(batch)
            with lock:
                latencies.append(time.perf_counter() - t0)
            return response

    sender = TimedSender(url, secret, concurrency=CONCURRENCY)
    start = time.monotonic()
    if args.ingest == "journal":
        fake.journal.publish(events, per_entry=BATCH)
        statuses = []
        while _stored(container) < len(events) and time.monotonic() - start < args.timeout:
            time.sleep(0.05)
    else:
        statuses = sender.send_all(events, batch_size=BATCH)
    ingest = time.monotonic() - start

    remaining = set(ids)
    while remaining and time.monotonic() - start < args.timeout:
        remaining = {i for i in remaining if not fake.owner_of("contacts", i)}
        time.sleep(0.2)
    owners_time = time.monotonic() - start
    written = len(ids) - len(remaining)

    with container.db.session() as session:
        stored = session.scalar(select(func.count()).select_from(InboxEventRow).where(
            InboxEventRow.kind == "hubspot"))
        done = session.scalar(select(func.count()).select_from(InboxEventRow).where(
            InboxEventRow.kind == "hubspot", InboxEventRow.status == "done"))
        routed = session.scalar(select(func.count()).select_from(DecisionRow).where(
            DecisionRow.assigned.is_(True)))
        synced = session.scalar(select(func.count()).select_from(DecisionRow).where(
            DecisionRow.sync_status == "synced"))
    crm_calls = sum(n for key, n in fake.calls.items() if "/crm/" in key)
    floor = floor_seconds(args.events)
    lost = args.events - stored
    rows = [("database", container.db.engine.dialect.name)]
    if args.ingest == "journal":
        rows += [
            ("events published", f"{args.events:,} to the webhooks journal in "
                                 f"{len(fake.journal.entries)} entries of up to {BATCH}"),
            ("journal reads", f"{fake.journal.reads} API calls (exempt from the rate limit, "
                              f"not counted below) + {fake.journal.file_reads} entry files"),
        ]
    else:
        rows += [
            ("events sent", f"{args.events:,} in {len(statuses)} batches of {BATCH}, "
                            f"concurrency {CONCURRENCY}"),
            ("webhook answers", ", ".join(f"{s}: {statuses.count(s)}" for s in sorted(
                set(statuses)))),
            ("ack p50 / p99", f"{_pct(latencies, 50) * 1000:.1f} ms / "
                              f"{_pct(latencies, 99) * 1000:.1f} ms"),
        ]
    rows += [
        ("ingest", f"{args.events / ingest:,.0f} events/s ({ingest:.2f} s)"),
        ("every owner written after", f"{owners_time:.1f} s ({written:,} of {len(ids):,})"),
        ("events stored / done / lost", f"{stored:,} / {done:,} / {lost}"),
        ("decisions assigned / synced", f"{routed:,} / {synced:,}"),
        ("HubSpot API calls", f"{crm_calls} (" + ", ".join(
            f"{n} {k.split(' ', 1)[1].replace('/crm/v3/', '')}"
            for k, n in sorted(fake.calls.items()) if "/crm/" in k) + ")"),
        ("API calls per routed record", f"{crm_calls / max(routed, 1):.4f}"),
        ("429s seen", str(fake.rate_limited)),
        ("rate-limit floor", f"{floor:.0f} s ({RATE_LIMIT} req / {WINDOW:.0f} s)"),
        ("time / floor", f"{owners_time / floor:.2f}" if floor else "n/a (under one window)"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    budget = 0.0201 if args.ingest == "journal" else 0.03
    ok = written == len(ids) and lost == 0 and crm_calls / max(routed, 1) <= budget
    print("result", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
