"""BYOC end to end: signed conversation events into a running connector, until Salesforce
(the bundled fake, real HTTP on 127.0.0.1) has accepted a ``POST v1/route`` for each.

Prints conversations per second, latency from event sent to route accepted (p50/p99),
and Interaction Service calls per conversation. Example::

    python bench/byoc_e2e.py --conversations 500 --batch 10 --concurrency 4
    python bench/byoc_e2e.py --conversations 200 --destination rep --retryable-errors 50
    python bench/byoc_e2e.py --conversations 300 --rate 20 --batch 1   # paced latency
    python bench/byoc_e2e.py --conversations 500 --burst-limit 100000  # no call budget
    python bench/byoc_e2e.py --conversations 200 --transfer-to rep   # + routingResult times

``--transfer-to queue|rep`` then asks for a transfer of every conversation
(RoutingRequested) and prints the time from event sent to ``POST v1/routingResult``
received (Salesforce's window is 60 s) and the calls per transfer.

The connector spends at most ``SALESFORCE_BURST_LIMIT`` (default 100) Salesforce calls per
org per rolling 10 s, so with the default a burst is capped at 10 route calls per second;
``--burst-limit`` raises it to measure the connector itself.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database  # noqa: E402
from connector.config import Config  # noqa: E402
from connector.salesforce_demo import new_fake, start_env, wait_for  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _transfers(env, fake, ids: list[str], args: argparse.Namespace) -> dict[str, float]:
    """Transfer every conversation; time each until its routingResult reached the fake."""
    target = {"queue_id": fake.add_queue("Transfers")} if args.transfer_to == "queue" else \
        {"user_id": fake.add_user("target@example.com")}
    before = {op: len(fake.requests_to("POST", f"/api/v1/{op}"))
              for op in ("route", "agentWork")}
    sent_at: dict[str, float] = {}
    batches = [ids[i:i + args.batch] for i in range(0, len(ids), args.batch)]

    def send(batch: list[str]) -> int:
        events = [env.byoc.routing_requested(c, work_record_id=fake.sessions[c],
                                             routing_correlation_id=fake.request_transfer(c),
                                             **target) for c in batch]
        now = time.time()
        for c in batch:
            sent_at[c] = now
        return env.byoc.send(events).status_code

    with ThreadPoolExecutor(args.concurrency) as pool:
        assert all(s == 200 for s in pool.map(send, batches))
    wait_for(lambda: len(fake.routing_results) >= len(ids), timeout=600,
             what="every routingResult")
    with fake._lock:
        answered = {r["conversationIdentifier"]: r for r in fake.routing_results}
    seconds = [answered[c]["received_at"] - sent_at[c] for c in ids]
    return {"transfers": len(ids),
            "transfer_succeeded": sum(bool(answered[c]["success"]) for c in ids) / len(ids),
            "result_p50_ms": percentile(seconds, 0.50) * 1000,
            "result_p99_ms": percentile(seconds, 0.99) * 1000,
            "result_max_ms": max(seconds) * 1000,
            "results_within_60s": sum(s < 60 for s in seconds) / len(ids),
            "transfer_route_calls": (len(fake.requests_to("POST", "/api/v1/route"))
                                     - before["route"]) / len(ids),
            "transfer_agent_work_calls": (len(fake.requests_to("POST", "/api/v1/agentWork"))
                                          - before["agentWork"]) / len(ids)}


def run(args: argparse.Namespace) -> dict[str, float]:
    fake, keys = new_fake()
    with tempfile.TemporaryDirectory() as tmp, database(args.postgres, tmp, "bench_byoc") as url:
        env = start_env(Path(tmp), fake, keys, byoc_route_encoding=args.encoding,
                        worker_threads=args.workers, database_url=url,
                        salesforce_burst_limit=args.burst_limit)
        try:
            reps = [env.add_rep(f"rep{i}@example.com", crm_id=True) for i in range(5)]
            destination = {"kind": args.destination}
            if args.destination == "queue":
                destination["queue_id"] = fake.add_queue("Support")
            env.add_router("conversation", reps, destination)
            if args.retryable_errors:
                fake.inject("route", 10055, times=args.retryable_errors)
            ids = [f"bench-{i}" for i in range(args.conversations)]
            batches = [ids[i:i + args.batch] for i in range(0, len(ids), args.batch)]
            sent_at: dict[str, float] = {}

            start = time.time()
            pace = args.batch / args.rate if args.rate else 0.0

            def send(numbered: tuple[int, list[str]]) -> int:
                index, batch = numbered
                if pace:
                    time.sleep(max(0.0, start + index * pace - time.time()))
                events = [env.byoc.conversation_started(c) for c in batch]
                now = time.time()
                for c in batch:
                    sent_at[c] = now
                return env.byoc.send(events).status_code

            with ThreadPoolExecutor(args.concurrency) as pool:
                statuses = list(pool.map(send, enumerate(batches)))
            assert all(s == 200 for s in statuses), statuses
            done_state = "offered" if args.destination == "rep" else "pending"

            def all_routed() -> bool:
                with fake._lock:
                    routed = len(fake.psrs) >= len(ids)
                return routed and (done_state != "offered" or len(fake.agent_works) >= len(ids))

            wait_for(all_routed, timeout=600, what="every conversation routed")
            with fake._lock:
                accepted = {c: p.created_at for c, p in fake.psrs.items()}
            end = max(accepted.values())
            latencies = [(accepted[c] - sent_at[c]) * 1000 for c in ids]
            route_calls = len(fake.requests_to("POST", "/api/v1/route"))
            agent_calls = len(fake.requests_to("POST", "/api/v1/agentWork"))
            transfers = _transfers(env, fake, ids, args) if args.transfer_to else {}
            return {**transfers,
                "conversations": len(ids), "seconds": end - start,
                "per_second": len(ids) / (end - start),
                "p50_ms": percentile(latencies, 0.50), "p99_ms": percentile(latencies, 0.99),
                "mean_ms": statistics.fmean(latencies),
                "route_calls": route_calls / len(ids), "agent_work_calls": agent_calls / len(ids),
                "token_logins": fake.calls["POST /services/oauth2/token"],
            }
        finally:
            env.stop()
            fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--batch", type=int, default=10, help="events per webhook request")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel webhook senders")
    parser.add_argument("--workers", type=int, default=4, help="connector executor threads")
    parser.add_argument("--encoding", choices=["json", "multipart"], default="json")
    parser.add_argument("--destination", choices=["channel", "queue", "rep"],
                        default="channel")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="conversations per second to send (0: as fast as possible)")
    parser.add_argument("--postgres", metavar="ADMIN_URL", default=None,
                        help="run on a fresh PostgreSQL database created through this URL, "
                             "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--retryable-errors", type=int, default=0,
                        help="answer this many route calls with error 10055 first")
    parser.add_argument("--transfer-to", choices=["queue", "rep"], default=None,
                        help="then transfer every conversation and time its routingResult")
    parser.add_argument("--burst-limit", type=int, default=Config.salesforce_burst_limit,
                        help="Salesforce calls per org per rolling 10 s (SALESFORCE_BURST_LIMIT)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    r = run(args)
    print(f"BYOC end to end ({'PostgreSQL' if args.postgres else 'SQLite'}): "
          f"{args.destination} destination, {args.encoding} encoding, "
          f"batch {args.batch}, {args.concurrency} senders, {args.workers} workers, "
          f"{'rate ' + str(args.rate) + '/s' if args.rate else 'burst'}, "
          f"{args.retryable_errors} injected 10055, "
          f"call budget {args.burst_limit} per 10 s")
    print("| conversations | seconds | conversations/s | p50 ms | p99 ms | route calls/conv "
          "| agentWork calls/conv | token logins |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {r['conversations']} | {r['seconds']:.2f} | {r['per_second']:.1f} | "
          f"{r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['route_calls']:.2f} | "
          f"{r['agent_work_calls']:.2f} | {r['token_logins']} |")
    if args.transfer_to:
        print(f"\nTransfers to a {args.transfer_to} (RoutingRequested -> routingResult):")
        print("| transfers | succeeded | result p50 ms | result p99 ms | result max ms "
              "| within 60 s | route calls/transfer | agentWork calls/transfer |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| {r['transfers']} | {r['transfer_succeeded']:.0%} | "
              f"{r['result_p50_ms']:.0f} | {r['result_p99_ms']:.0f} | "
              f"{r['result_max_ms']:.0f} | {r['results_within_60s']:.0%} | "
              f"{r['transfer_route_calls']:.2f} | {r['transfer_agent_work_calls']:.2f} |")


if __name__ == "__main__":
    main()
