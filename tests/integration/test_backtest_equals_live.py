"""A backtest decides exactly as the live dispatch path does on the same records at the
same times, with caps over several days and a sliding load window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connector.bootstrap import bootstrap
from connector.core.backtest import PastRecord, backtest
from connector.service.dispatch import dispatch
from connector.store import repositories as repo
from connector.store.models import AccountRow, ObjectRow, RepRow, RouterRow

START = datetime(2026, 11, 2, 7, tzinfo=UTC)  # a Monday


def _world(container, distribution, caps, count):
    with container.db.session() as session:
        session.add(AccountRow(id="acc", name="A", active=True))
        session.flush()
        users = []
        for i, cap in enumerate(caps):
            session.add(RepRow(id=f"rep{i}", account_id="acc", email=f"r{i}@x.org",
                               timezone=["UTC", "Europe/Berlin", "America/New_York"][i],
                               out_of_office=[], crm_ids={}))
            users.append({"user_id": f"rep{i}", "position": i, "weight": i + 1,
                          "daily_cap": cap})
        session.add(RouterRow(id="router", account_id="acc", name="R", object_type="contact",
                              published=True, current_weights={},
                              settings={"users": users, "distribution": distribution,
                                        "overwrite": "never", "load_window_hours": 3,
                                        "trigger": {"groups": [{"conditions": [
                                            {"field": "country", "operator": "equals",
                                             "value": "DE"}]}]}}))
        for i in range(count):
            session.add(ObjectRow(id=f"o{i:03d}", account_id="acc", object_type="contact",
                                  fields={"country": "FR" if i % 7 == 0 else "DE"},
                                  owner_rep_id=None, source="hubspot", source_id=str(i)))


@pytest.mark.parametrize("distribution, caps", [
    ("round_robin", [None, 3, 5]),
    ("weighted", [4, None, None]),
    ("load_balanced", [None, None, 2]),
])
def test_backtest_equals_the_live_path(tmp_path, config, distribution, caps):
    container = bootstrap(config.with_overrides(
        {"database_url": f"sqlite:///{tmp_path / 'live.db'}"}))
    try:
        _world(container, distribution, caps, 60)
        times = [START + timedelta(minutes=47 * i) for i in range(60)]  # about two days
        with container.db.session() as session:
            account = repo.account_to_domain(session.get(AccountRow, "acc"))
            router = repo.router_to_domain(session.get(RouterRow, "router"))
            reps = {r.id: repo.rep_to_domain(r) for r in session.scalars(select(RepRow))}
            objects = [repo.object_to_domain(o) for o in
                       session.scalars(select(ObjectRow).order_by(ObjectRow.id))]
        live, cap_skips = [], 0
        for obj, at in zip(objects, times, strict=True):
            result = dispatch(container.db, "acc", "router", obj.id, now=at)
            live.append((obj.id, result.decision.outcome.name.lower(),
                         result.decision.rep.id if result.decision.rep else None))
            cap_skips += sum(s.reason == "daily cap reached" for s in result.decision.skipped)
    finally:
        container.close()
    replay = backtest(account=account, router=router, reps=reps,
                      records=[PastRecord(o, at, None) for o, at in zip(objects, times,
                                                                        strict=True)])
    assert [(r.record_id, r.outcome, r.would_rep_id) for r in replay.rows] == live
    assert {o for _, o, _ in live} >= {"assigned", "trigger_not_matched"}
    assert cap_skips > 0  # the caps, in three time zones over two days, were exercised
