#!/usr/bin/env python3
"""Webhook acknowledgement latency while the API is busy dispatching.

For each database (SQLite file, and a fresh PostgreSQL database), starts
``connector serve`` on 127.0.0.1 (its own process, the threads executor processing the
inbox, the fake HubSpot answering its CRM calls) and, for ``--seconds``, runs
``--clients`` clients calling ``POST /dispatch/router`` one after another next to
``--clients`` clients sending signed HubSpot webhooks (``--events`` events each) one
after another. Prints the webhook ack latency (send to 204), the share slower than
HubSpot's 5-second timeout (HubSpot re-sends those), and the dispatches per second done
meanwhile. The two kinds of clients run in separate processes, so neither measures the
other's client-side CPU. Example::

    python bench/ack_under_load.py --seconds 10            # both databases
    python bench/ack_under_load.py --sqlite --clients 50
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from adapters.hubspot.fake_server import FakeHubSpot, make_event  # noqa: E402
from adapters.hubspot.signatures import sign_v3  # noqa: E402
from bench.common import database, percentile, print_table  # noqa: E402

SECRET = "bench-client-secret"
JWT_SECRET = "bench-" + "j" * 32
HUBSPOT_TIMEOUT = 5.0
MAX_SECONDS, MAX_CLIENTS = 120, 200
PER_PROCESS = 25  # client threads per process
PROCESSES = 2 * MAX_CLIENTS // PER_PROCESS
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(url: str, fake: FakeHubSpot, reps: int, objects: int) -> tuple[str, str, list[str]]:
    """Migrate, then add an account, its reps, a published round-robin router over all of
    them, ``objects`` API objects, and the fake portal connected to the account."""
    from bench.dispatch import seed_router
    from connector.bootstrap import bootstrap
    from connector.config import Config

    config = Config(database_url=url, executor="inline", jwt_secret=JWT_SECRET,
                    hubspot_client_secret=SECRET, hubspot_access_token=fake.token,
                    hubspot_api_base=fake.url)
    container = bootstrap(config)
    try:
        ids = seed_router(container, reps, objects)
        container.extras["hubspot"].portals.connect(str(fake.portal_id), ids[0])
        return ids
    finally:
        container.close()


def _serve(url: str, fake: FakeHubSpot, port: int, threads: int | None,
           log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "CONNECTOR_JWT_SECRET": JWT_SECRET,
           "CONNECTOR_SECRET_KEY": "k" * 32, "CONNECTOR_EXECUTOR": "threads",
           "HUBSPOT_CLIENT_SECRET": SECRET, "HUBSPOT_ACCESS_TOKEN": fake.token,
           "HUBSPOT_API_BASE": fake.url}
    command = [sys.executable, "-m", "connector.cli", "--log-level", "ERROR", "serve",
               "--host", "127.0.0.1", "--port", str(port)]
    if threads is not None:
        command += ["--threads", str(threads)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"connector serve exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("connector serve did not start within 60 s")


def _run_clients(kind: str, base: str, clients: int, seconds: float, start_at: float,
                 token: str, router_id: str, object_ids: list[str], events: int,
                 first_event: int) -> tuple[list[float], int]:
    """One process's clients: ``kind`` is "dispatch" or "webhook". Returns each
    successful call's latency in seconds and the number of failed calls. Plain
    ``http.client`` on a kept-alive connection per client: the clients' own CPU must not
    show up as server latency."""
    samples: list[float] = []
    failures = [0]
    lock = threading.Lock()
    end = start_at + seconds
    counter = itertools.count()
    host, port = base.removeprefix("http://").split(":")
    webhook_url = base + "/webhooks/hubspot"

    def request(n: int) -> tuple[str, bytes, dict[str, str], int]:
        if kind == "dispatch":
            body = json.dumps({"router_id": router_id,
                               "object_id": object_ids[n % len(object_ids)]}).encode()
            return "/dispatch/router", body, {"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"}, 200
        first = first_event + n * events
        body = json.dumps([make_event("contact.creation", first + i, event_id=first + i)
                           for i in range(events)], separators=(",", ":")).encode()
        timestamp = str(int(time.time() * 1000))
        return "/webhooks/hubspot", body, {
            "Content-Type": "application/json",
            "X-HubSpot-Request-Timestamp": timestamp,
            "X-HubSpot-Signature-v3": sign_v3(SECRET, "POST", webhook_url, body, timestamp),
        }, 204

    def loop() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        while time.time() < start_at:
            time.sleep(0.01)
        while time.time() < end:
            with lock:
                n = next(counter)
            path, body, headers, expected = request(n)
            begin = time.perf_counter()
            try:
                connection.request("POST", path, body, headers)
                reply = connection.getresponse()
                reply.read()
                ok = reply.status == expected
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=60)
                ok = False
            elapsed = time.perf_counter() - begin
            with lock:
                if ok:
                    samples.append(elapsed)
                else:
                    failures[0] += 1
        connection.close()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 90)
    return samples, failures[0]


def _clients(pool: ProcessPoolExecutor, kind: str, clients: int, *args) -> list:
    """``clients`` spread over processes of at most PER_PROCESS threads each."""
    sizes = [PER_PROCESS] * (clients // PER_PROCESS) + \
        ([clients % PER_PROCESS] if clients % PER_PROCESS else [])
    return [pool.submit(_run_clients, kind, args[0], size, *args[1:]) for size in sizes]


def _gather(futures: list) -> tuple[list[float], int]:
    samples: list[float] = []
    failures = 0
    for future in futures:
        got, failed = future.result()
        samples += got
        failures += failed
    return samples, failures


def run(name: str, url: str, args: argparse.Namespace, tmp: Path) -> list[str]:
    from connector.web.auth import issue_token

    with FakeHubSpot() as fake:
        account_id, router_id, object_ids = _seed(url, fake, args.reps, args.objects)
        port = _free_port()
        server = _serve(url, fake, port, args.threads, tmp / f"serve-{name}.log")
        try:
            base = f"http://127.0.0.1:{port}"
            token = issue_token(JWT_SECRET, account_id)
            start_at = time.time() + 2  # both processes start sending together
            with ProcessPoolExecutor(PROCESSES) as pool:
                dispatching = _clients(pool, "dispatch", args.dispatchers, base, args.seconds,
                                       start_at, token, router_id, object_ids, 0, 0)
                hooks = _clients(pool, "webhook", args.clients, base, args.seconds, start_at,
                                 token, router_id, [], args.events, 10_000_000)
                acks, ack_failures = _gather(hooks)
                dispatches, dispatch_failures = _gather(dispatching)
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    late = sum(1 for s in acks if s > HUBSPOT_TIMEOUT) + ack_failures
    total = len(acks) + ack_failures
    ms = [s * 1000 for s in acks]
    return [name, str(len(acks)), f"{percentile(ms, 50):,.0f}", f"{percentile(ms, 99):,.0f}",
            f"{max(ms, default=float('nan')):,.0f}",
            f"{100 * late / total if total else 0:.1f}%",
            f"{len(dispatches) / args.seconds:,.0f}",
            f"{percentile([d * 1000 for d in dispatches], 99):,.0f}",
            str(ack_failures + dispatch_failures)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help=f"max {MAX_SECONDS}")
    parser.add_argument("--clients", type=int, default=100,
                        help=f"dispatching clients, and as many webhook senders "
                             f"(max {MAX_CLIENTS} each)")
    parser.add_argument("--dispatchers", type=int, default=None,
                        help="dispatching clients, if not as many as --clients (0: none, "
                             "to see the acknowledgements alone)")
    parser.add_argument("--events", type=int, default=10, help="events per webhook (1-100)")
    parser.add_argument("--reps", type=int, default=10, help="reps in the router")
    parser.add_argument("--objects", type=int, default=2000, help="objects to dispatch")
    parser.add_argument("--threads", type=int, default=None,
                        help="connector serve --threads (default: its own default)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite", action="store_true", help="SQLite only")
    which.add_argument("--postgres", action="store_true", help="PostgreSQL only")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL,
                        help="admin URL of a PostgreSQL server on 127.0.0.1 (a database is "
                             "created and dropped)")
    args = parser.parse_args()
    args.seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    args.clients = max(1, min(args.clients, MAX_CLIENTS))
    args.dispatchers = max(0, min(args.clients if args.dispatchers is None
                                  else args.dispatchers, MAX_CLIENTS))
    args.events = max(1, min(args.events, 100))
    args.objects = max(1, min(args.objects, 100_000))
    host = args.postgres_url.split("@")[-1].split("/")[0].split(":")[0]
    if args.postgres or not args.sqlite:
        if host not in ("127.0.0.1", "localhost"):
            raise SystemExit("--postgres-url must point at 127.0.0.1")
    logging.basicConfig(level=logging.ERROR)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.postgres:
            with database(None, tmp) as url:
                rows.append(run("sqlite", url, args, Path(tmp)))
        if not args.sqlite:
            with database(args.postgres_url, tmp, "ack_bench") as url:
                rows.append(run("postgres", url, args, Path(tmp)))
    print(f"{args.dispatchers} dispatching clients + {args.clients} webhook senders "
          f"({args.events} events each), {args.seconds:g} s, {args.reps} reps")
    print_table(["database", "acks", "ack p50 ms", "ack p99 ms", "ack max ms",
                 f"> {HUBSPOT_TIMEOUT:g} s", "dispatch/s", "dispatch p99 ms", "errors"], rows)


if __name__ == "__main__":
    main()
