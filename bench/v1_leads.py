#!/usr/bin/env python3
"""``POST /v1/leads`` over real HTTP to the app on a SQLite file: a lead stored, its
contact created, the active ruleset run and the owner assigned, for a rule that assigns a
rep directly and for one that runs a round-robin router (``service.dispatch``), next to
``POST /dispatch/router`` on an existing contact measured in the same run, so the table
says what ingesting a lead costs over routing a record that already exists.

    python bench/v1_leads.py [--leads 300] [--reps 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from bench.common import percentile, print_table, served  # noqa: E402
from connector.bootstrap import bootstrap  # noqa: E402
from connector.config import Config  # noqa: E402
from connector.service.api_keys import create_key  # noqa: E402
from connector.store.models import AccountRow  # noqa: E402
from connector.web import create_app  # noqa: E402
from connector.web.auth import issue_token  # noqa: E402

SECRET = "bench-secret-" + "x" * 32


def _timed(http: requests.Session, calls: list[tuple[str, dict]]) -> list[float]:
    out = []
    for url, body in calls:
        start = time.perf_counter()
        response = http.post(url, json=body, timeout=30)
        out.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return out


def run(leads: int, reps: int) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        container = bootstrap(Config(database_url=f"sqlite:///{tmp}/bench.db",
                                     executor="inline", jwt_secret=SECRET,
                                     v1_rate_limit_per_minute=0))
        app = create_app(container=container)
        with container.db.session() as session:
            account = AccountRow(name="Bench")
            session.add(account)
            session.flush()
            account_id = account.id
        _, key = create_key(container.db, account_id, ["*"])
        rows = []
        with served(app) as url, requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {key}"
            rep_ids = [http.post(f"{url}/v1/reps", json={"email": f"r{i}@bench.example"},
                                 timeout=10).json()["id"] for i in range(reps)]
            router = http.post(f"{url}/routers", timeout=10, json={
                "name": "RR", "object_type": "contact", "published": True,
                "settings": {"users": [{"user_id": r[4:]} for r in rep_ids]}}).json()["id"]
            for label, action in (
                    ("ASSIGN_REP", {"type": "ASSIGN_REP", "rep_id": rep_ids[0]}),
                    ("ASSIGN_ROUTER", {"type": "ASSIGN_ROUTER", "router_id": router})):
                http.post(f"{url}/v1/rules", timeout=10, json={
                    "name": label, "active": True, "rules": [],
                    "default_rule": {"actions": [action]}}).raise_for_status()
                samples = _timed(http, [(f"{url}/v1/leads",
                                         {"email": f"{label}-{i}@lead.example"})
                                        for i in range(leads)])
                rows.append([f"POST /v1/leads ({label})", samples])
            contacts = [c for c in http.get(f"{url}/v1/leads?limit=100", timeout=10)
                        .json()["data"]][:100]
            jwt_http = requests.Session()
            jwt_http.headers["Authorization"] = f"Bearer {issue_token(SECRET, account_id)}"
            calls = [(f"{url}/dispatch/router", {"router_id": router,
                                                  "object_id": contacts[i % 100]
                                                  ["contact_id"][4:]})
                     for i in range(leads)]
            rows.append(["POST /dispatch/router (same router)", _timed(jwt_http, calls)])
        container.close()
    base = sum(rows[-1][1]) / len(rows[-1][1])
    return [[name, f"{len(s) / (sum(s) / 1000):.0f}", f"{percentile(s, 50):.1f}",
             f"{percentile(s, 99):.1f}", f"{(sum(s) / len(s)) / base:.2f}"]
            for name, s in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    print_table(["call", "per s", "p50 ms", "p99 ms", "mean ÷ dispatch"],
                run(args.leads, args.reps))


if __name__ == "__main__":
    main()
