"""dispatch_many decides exactly as dispatch run on each object in turn."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from connector.bootstrap import bootstrap
from connector.service.dispatch import dispatch
from connector.service.dispatch_many import dispatch_many
from connector.store.models import (
    AccountRow,
    AssignmentCounterRow,
    ObjectRow,
    RepRow,
    RouterRow,
)

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def _world(container, distribution, caps):
    with container.db.session() as session:
        account = AccountRow(id="acc", name="A", active=True)
        session.add(account)
        session.flush()
        users = []
        for i, cap in enumerate(caps):
            session.add(RepRow(id=f"rep{i}", account_id="acc", email=f"r{i}@x.org",
                               out_of_office=[], crm_ids={}))
            users.append({"user_id": f"rep{i}", "position": i, "weight": i + 1,
                          "daily_cap": cap})
        session.add(RouterRow(id="router", account_id="acc", name="R", object_type="contact",
                              published=True, current_weights={},
                              settings={"users": users, "distribution": distribution,
                                        "overwrite": "never",
                                        "trigger": {"groups": [{"conditions": [
                                            {"field": "country", "operator": "equals",
                                             "value": "DE"}]}]}}))
        for i in range(12):
            session.add(ObjectRow(id=f"o{i:02d}", account_id="acc", object_type="contact",
                                  fields={"country": "FR" if i % 5 == 0 else "DE"},
                                  owner_rep_id="rep1" if i == 3 else None, source="hubspot",
                                  source_id=str(i)))


@pytest.mark.parametrize("distribution, caps", [
    ("round_robin", [None, 2, None]),
    ("weighted", [None, None, 3]),
    ("load_balanced", [1, None, None]),
])
def test_same_decisions_as_one_by_one(tmp_path, config, distribution, caps):
    ids = [f"o{i:02d}" for i in range(12)] + ["missing"]
    outcomes, counters, routers, owners = [], [], [], []
    for name in ("one", "many"):
        c = bootstrap(config.with_overrides({"database_url":
                                             f"sqlite:///{tmp_path / name}.db"}))
        try:
            _world(c, distribution, caps)
            if name == "one":
                results = [dispatch(c.db, "acc", "router", i, now=NOW) for i in ids]
            else:
                results = dispatch_many(c.db, "acc", "router", ids, now=NOW)
            outcomes.append([(r.decision.outcome.name, r.decision.rep.id if r.decision.rep
                              else None) for r in results])
            with c.db.session() as session:
                counters.append(sorted((r.rep_id, r.period, r.period_key, r.count) for r in
                                       session.scalars(select(AssignmentCounterRow))))
                routers.append([(r.rr_last_position, r.current_weights) for r in
                                session.scalars(select(RouterRow))])
                owners.append(sorted((r.id, r.owner_rep_id) for r in
                                     session.scalars(select(ObjectRow))))
        finally:
            c.close()
    assert outcomes[0] == outcomes[1]
    assert counters[0] == counters[1] and counters[0]
    assert routers[0] == routers[1] and owners[0] == owners[1]
    assert {o for o, _ in outcomes[0]} >= {"ASSIGNED", "TRIGGER_NOT_MATCHED",
                                           "CANNOT_OVERWRITE", "OBJECT_NOT_FOUND"}


def test_a_round_robin_credit_is_paid_in_a_batch_as_one_by_one(tmp_path, config):
    """A credit (an SLA reassignment took a record from rep2) is paid first, outside the
    rotation, by both paths."""
    from connector.store import routing_depth_repo

    ids = ["o01", "o02", "o04"]
    outcomes, balances = [], []
    for name in ("one", "many"):
        c = bootstrap(config.with_overrides({"database_url":
                                             f"sqlite:///{tmp_path / name}.db"}))
        try:
            _world(c, "round_robin", [None, None, None])
            with c.db.session() as session:
                routing_depth_repo.add_credit(session, "acc", "router", "rep2")
            if name == "one":
                results = [dispatch(c.db, "acc", "router", i, now=NOW) for i in ids]
            else:
                results = dispatch_many(c.db, "acc", "router", ids, now=NOW)
            outcomes.append([r.decision.rep.id for r in results])
            with c.db.session() as session:
                balances.append(routing_depth_repo.balances(session, "router"))
        finally:
            c.close()
    assert outcomes[0] == outcomes[1] == ["rep2", "rep0", "rep1"]
    assert balances[0] == balances[1] == {"rep2": (0, 0)}
