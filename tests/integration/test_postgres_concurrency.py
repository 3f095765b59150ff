"""Rotation and caps stay exact with many dispatchers on the real PostgreSQL."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from connector.service.dispatch import dispatch
from connector.store.db import Database
from connector.store.models import AccountRow, ObjectRow, RepRow, RouterRow

pytestmark = pytest.mark.postgres


def _seed(db: Database, *, users: int, objects: int, cap: int | None = None):
    with db.session() as session:
        account = AccountRow(name="Load")
        session.add(account)
        session.flush()
        reps = [RepRow(account_id=account.id, email=f"rep{i}@x.io", out_of_office=[],
                       crm_ids={}) for i in range(users)]
        session.add_all(reps)
        session.flush()
        router = RouterRow(account_id=account.id, name="All", object_type="contact",
                           published=True, current_weights={},
                           settings={"users": [{"user_id": r.id, "position": i, "weight": 1,
                                                "daily_cap": cap}
                                               for i, r in enumerate(reps)]})
        session.add(router)
        rows = [ObjectRow(account_id=account.id, object_type="contact",
                          fields={"n": i}) for i in range(objects)]
        session.add_all(rows)
        session.flush()
        return account.id, router.id, [r.id for r in rows]


def _run(db, account_id, router_id, object_ids, workers=8):
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda oid: dispatch(db, account_id, router_id, oid),
                                object_ids))
    return results


def test_eight_dispatchers_split_4000_records_exactly_evenly(postgres_url):
    db = Database(postgres_url)
    db.migrate()
    account_id, router_id, object_ids = _seed(db, users=4, objects=4000)
    results = _run(db, account_id, router_id, object_ids)
    assert all(r.decision.assigned for r in results)
    counts = Counter(r.decision.rep.email for r in results)
    assert sorted(counts.values()) == [1000, 1000, 1000, 1000]
    with db.session() as session:
        owners = Counter(o.owner_rep_id for o in session.query(ObjectRow))
    assert sorted(owners.values()) == [1000, 1000, 1000, 1000]
    db.dispose()


def test_caps_are_never_exceeded_under_concurrency(postgres_url):
    db = Database(postgres_url)
    db.migrate()
    account_id, router_id, object_ids = _seed(db, users=4, objects=600, cap=100)
    results = _run(db, account_id, router_id, object_ids)
    assigned = Counter(r.decision.rep.email for r in results if r.decision.assigned)
    assert sorted(assigned.values()) == [100, 100, 100, 100]
    limited = [r for r in results if not r.decision.assigned]
    assert len(limited) == 200
    assert {r.decision.outcome.message for r in limited} == {"Assignment limit reached"}
    db.dispose()
