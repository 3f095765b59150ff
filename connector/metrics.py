"""Prometheus metrics.

Two kinds, chosen so that the numbers stay true when several web processes and workers run:

* Read from the database at scrape time (:class:`InboxCollector`): events received and
  processed by source, and the queue depth by status. The inbox is shared by every process,
  so any one ``/metrics`` reports the whole system's totals with no coordination.
* Counted where they happen (``prometheus_client``): failed attempts by source, the
  acceptance-to-processed latency histogram, CRM calls and 429s by portal. A single process
  needs nothing; several processes on one host set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
  directory shared by them before they start, and ``/metrics`` then merges every process's
  files (prometheus_client's multiprocess mode; only counters and histograms are used here,
  so no gauge mode or ``mark_process_dead`` hook is needed). Workers on other hosts serve
  their own numbers with ``connector worker --metrics-port``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from connector.store.models import InboxEventRow

EVENTS_FAILED = Counter("connector_events_failed", "Failed processing attempts by source",
                        ["source"])
EVENTS_FINISHED = Counter("connector_events_finished",
                          "Events that reached done or failed in this process", ["source",
                                                                                  "status"])
DISPATCH_LATENCY = Histogram(
    "connector_dispatch_latency_seconds",
    "Seconds from an event's acceptance (webhook 2xx) to its processing finished",
    ["source"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800))
CRM_CALLS = Counter("connector_crm_calls", "HTTP calls to a CRM by portal/org and status class",
                    ["crm", "portal", "status"])
JOURNAL_READS = Counter("connector_hubspot_journal_reads",
                        "Calls to HubSpot's webhooks journal (exempt from the rate limit)")
JOURNAL_EVENTS = Counter("connector_hubspot_journal_events",
                         "Events read from HubSpot's webhooks journal")
JOURNAL_GAPS = Counter("connector_hubspot_journal_gaps",
                       "Times the stored journal offset had expired: events were lost")
CRM_RATE_LIMITED = Counter("connector_crm_rate_limited", "429 answers from a CRM",
                           ["crm", "portal"])


class InboxCollector:
    """Inbox totals straight from the database at scrape time."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def collect(self) -> Iterator[Any]:
        received = CounterMetricFamily("connector_events_received",
                                       "Events accepted into the inbox by source",
                                       labels=["source"])
        processed = CounterMetricFamily("connector_events_processed",
                                        "Events processed to done by source", labels=["source"])
        depth = GaugeMetricFamily("connector_queue_depth",
                                  "Inbox events by status (pending, processing, failed, dead)",
                                  labels=["status"])
        totals: dict[str, int] = {}
        done: dict[str, int] = {}
        statuses = dict.fromkeys(("pending", "processing", "failed", "dead"), 0)
        with self.db.session() as session:
            rows = session.execute(select(InboxEventRow.source, InboxEventRow.status,
                                          func.count()).group_by(InboxEventRow.source,
                                                                 InboxEventRow.status)).all()
        for source, status, count in rows:
            totals[source] = totals.get(source, 0) + count
            if status == "done":
                done[source] = done.get(source, 0) + count
            else:
                statuses[status] = statuses.get(status, 0) + count
        for source, count in sorted(totals.items()):
            received.add_metric([source], count)
            processed.add_metric([source], done.get(source, 0))
        for status, count in statuses.items():
            depth.add_metric([status], count)
        yield received
        yield processed
        yield depth


#: the window of the routing gauges: the measures of the last day, per account
ROUTING_WINDOW_HOURS = 24


class RoutingCollector:
    """The routing measures of the last ``ROUTING_WINDOW_HOURS`` per active account, read
    from the database at scrape time like the inbox totals (every process reports the same
    numbers): assignments, unassigned and backup-user decisions, reassignments, SLA clocks
    met and breached, and speed to lead p50/p90. Gauges, since they describe a window."""

    def __init__(self, db: Any, now: Any = None) -> None:
        self.db = db
        self.now = now or (lambda: datetime.now(UTC))

    def collect(self) -> Iterator[Any]:
        from datetime import timedelta

        from connector.service.insights import measures
        from connector.store.models import AccountRow

        window = f"last {ROUTING_WINDOW_HOURS} hours"
        counts = {name: GaugeMetricFamily(f"connector_routing_{name}",
                                          f"{text} in the {window}", labels=["account"])
                  for name, text in (("decisions", "Decisions that reached a rep choice"),
                                     ("assigned", "Assignments"),
                                     ("unassigned", "Decisions with no rep available"),
                                     ("backup", "Assignments to the backup user"),
                                     ("reassignments", "Reassignments"),
                                     ("sla_met", "SLA clocks met"),
                                     ("sla_breached", "SLA clocks breached"))}
        speed = GaugeMetricFamily("connector_speed_to_lead_seconds",
                                  f"Assignment to first touch, in the {window}",
                                  labels=["account", "quantile"])
        now = self.now()
        with self.db.read_session() as session:
            accounts = list(session.scalars(select(AccountRow.id)
                                            .where(AccountRow.active.is_(True))))
        for account in accounts:
            totals = measures(self.db, account, now - timedelta(hours=ROUTING_WINDOW_HOURS),
                              now, "total", now)["totals"]
            for name, family in counts.items():
                family.add_metric([account], totals[name])
            for label, key in (("0.5", "p50"), ("0.9", "p90")):
                value = totals["speed_to_lead_seconds"][key]
                if value is not None:
                    speed.add_metric([account, label], value)
        yield from counts.values()
        yield speed


def render(db: Any, now: Any = None) -> tuple[bytes, str]:
    """The /metrics body: this process (or every process, in multiprocess mode) + inbox
    and routing measures; ``now`` is the clock of the routing window (tests set it)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    inbox_registry = CollectorRegistry(auto_describe=False)
    inbox_registry.register(InboxCollector(db))
    inbox_registry.register(RoutingCollector(db, now))
    return generate_latest(registry) + generate_latest(inbox_registry), CONTENT_TYPE_LATEST


def observe_batch(container: Any, events: Sequence[Any]) -> None:
    """After a batch: count outcomes and record each finished event's latency."""
    if not events:
        return
    ids = [e.id for e in events]
    with container.db.session() as session:
        rows = session.execute(select(InboxEventRow.source, InboxEventRow.status,
                                      InboxEventRow.created_at, InboxEventRow.processed_at)
                               .where(InboxEventRow.id.in_(ids))).all()
    now = datetime.now(UTC)
    for source, status, created_at, processed_at in rows:
        if status in ("failed", "dead"):
            EVENTS_FAILED.labels(source).inc()
        EVENTS_FINISHED.labels(source, status).inc()
        if status == "done" and created_at is not None:
            DISPATCH_LATENCY.labels(source).observe(
                max(((processed_at or now) - created_at).total_seconds(), 0.0))


def instrument_session(session: Any, crm: str, portal: str | int) -> Any:
    """Count every HTTP answer a ``requests.Session`` gets from a CRM, and its 429s."""
    portal = str(portal)

    def _count(response: Any, *args: Any, **kwargs: Any) -> Any:
        status = response.status_code
        CRM_CALLS.labels(crm, portal, f"{status // 100}xx").inc()
        if status == 429:
            CRM_RATE_LIMITED.labels(crm, portal).inc()
        return response

    session.hooks.setdefault("response", []).append(_count)
    return session


def bearer_matches(authorization: str | None, token: str | None) -> bool:
    """Whether a scrape may read the metrics: always without ``CONNECTOR_METRICS_TOKEN``,
    else only with ``Authorization: Bearer <token>`` (compared in constant time)."""
    import hmac

    if not token:
        return True
    header = authorization or ""
    sent = header[7:].strip() if header.startswith("Bearer ") else ""
    return hmac.compare_digest(sent.encode(), token.encode())


def start_worker_metrics_server(port: int, host: str, token: str | None) -> Any:
    """A worker's own ``/metrics`` on ``host:port`` (prometheus_client's WSGI app), behind
    the same bearer token as the web app's; returns the server (``shutdown()`` stops it).
    prometheus_client's ``start_http_server`` has no hook for a token, hence the wrapper."""
    import threading
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from prometheus_client import make_wsgi_app

    metrics_app = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if not bearer_matches(environ.get("HTTP_AUTHORIZATION"), token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                ("WWW-Authenticate", "Bearer")])
            return [b"Missing or invalid bearer token (CONNECTOR_METRICS_TOKEN)\n"]
        return metrics_app(environ, start_response)

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base name
            pass

    class Threaded(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    server = make_server(host, port, app, server_class=Threaded, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True,
                     name="connector-worker-metrics").start()
    return server
