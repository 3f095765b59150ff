"""A backtest as the API and ``connector routers backtest`` run it: records loaded from
the store (SQLite, in a temporary file) and replayed, next to the core replay alone on
the same records in the same run.

    python bench/backtest_store.py [--records 10000] [--reps 50]

Prints the seconds each takes, records per second, and the share of the time the store
load takes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connector.core.backtest import PastRecord, backtest
from connector.service import backtests
from connector.store import repositories as repo
from connector.store.db import Database
from connector.store.models import AccountRow, ObjectRow, RepRow, RouterRow


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=50)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.migrate()
        with db.session() as session:
            session.add(AccountRow(id="acc", name="A", active=True))
            session.flush()
            for i in range(args.reps):
                session.add(RepRow(id=f"rep{i}", account_id="acc", email=f"r{i}@x.org",
                                   out_of_office=[], crm_ids={}))
            session.add(RouterRow(id="r", account_id="acc", name="R", object_type="contact",
                                  published=True, current_weights={}, settings={
                                      "users": [{"user_id": f"rep{i}", "position": i}
                                                for i in range(args.reps)]}))
            session.flush()
            session.bulk_insert_mappings(ObjectRow, [
                {"id": f"o{i:06d}", "account_id": "acc", "object_type": "contact",
                 "fields": {"country": "DE"}, "owner_rep_id": f"rep{i % 7}", "source": "api",
                 "created_at": now - timedelta(seconds=i * 60)}
                for i in range(args.records)])
        started = time.perf_counter()
        found = backtests.run(db, "acc", now=now, chosen=backtests.RecordFilter(days=365),
                              router_id="r")
        whole = time.perf_counter() - started
        with db.session() as session:
            account = repo.account_to_domain(session.get(AccountRow, "acc"))
            router = repo.router_to_domain(session.get(RouterRow, "r"))
            reps = repo.reps_by_id(session, "acc", [f"rep{i}" for i in range(args.reps)])
        records = [PastRecord(repo.object_to_domain(ObjectRow(
            id=f"o{i:06d}", account_id="acc", object_type="contact", fields={"country": "DE"},
            archived_at=None)), now - timedelta(seconds=i * 60)) for i in range(args.records)]
        started = time.perf_counter()
        backtest(account=account, router=router, records=records, reps=reps)
        core = time.perf_counter() - started
        db.dispose()
    print(f"records: {found.records}, reps: {args.reps}")
    print(f"store + replay: {whole:.2f} s ({found.records / whole:,.0f} records/s)")
    print(f"core replay alone: {core:.2f} s ({args.records / core:,.0f} records/s)")
    print(f"store load share: {(whole - core) / whole:.0%}")


if __name__ == "__main__":
    main()
