"""``connector routers backtest``: the per-rep table of a saved router over stored
records, with a progress bar, writing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from connector.cli import main
from connector.store.db import Database
from connector.store.models import AccountRow, DecisionRow, ObjectRow, RepRow, RouterRow
from tests.conftest import JWT_SECRET


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CONNECTOR_JWT_SECRET", JWT_SECRET)
    database = Database(url)
    database.migrate()
    yield database
    database.dispose()


def _world(db: Database, records: int) -> None:
    now = datetime.now(UTC)
    with db.session() as session:
        session.add(AccountRow(id="acc", name="A", active=True))
        session.flush()
        for rep in ("ann", "bob"):
            session.add(RepRow(id=rep, account_id="acc", email=f"{rep}@example.com",
                               out_of_office=[], crm_ids={}))
        session.add(RouterRow(id="r1", account_id="acc", name="R", object_type="contact",
                              published=True, current_weights={}, settings={
                                  "users": [{"user_id": "ann", "position": 0},
                                            {"user_id": "bob", "position": 1}]}))
        for i in range(records):
            session.add(ObjectRow(id=f"o{i:04d}", account_id="acc", object_type="contact",
                                  fields={}, owner_rep_id="ann",
                                  source="hubspot" if i % 2 else "api", source_id=str(i),
                                  created_at=now - timedelta(hours=i)))
        # older than the default window
        session.add(ObjectRow(id="old", account_id="acc", object_type="contact", fields={},
                              owner_rep_id="bob", source="api",
                              created_at=now - timedelta(days=90)))


def test_backtest_prints_the_per_rep_table(db):
    _world(db, 600)
    result = CliRunner().invoke(main, ["routers", "backtest", "--account", "acc",
                                       "--router", "r1", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "records replayed" in result.output
    lines = result.output.splitlines()
    assert lines[-3].split() == ["ann@example.com", "300", "600", "-300"]
    assert lines[-2].split() == ["bob@example.com", "300", "0", "+300"]
    assert lines[-1].startswith("600 records, 300 would change; assigned 600")
    with db.session() as session:
        assert session.query(DecisionRow).count() == 0


def test_backtest_filters_by_source_and_reports_errors(db):
    _world(db, 10)
    result = CliRunner().invoke(main, ["routers", "backtest", "--account", "acc",
                                       "--router", "r1", "--source", "hubspot"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("5 records")
    missing = CliRunner().invoke(main, ["routers", "backtest", "--account", "acc",
                                        "--router", "nope"])
    assert missing.exit_code != 0 and "Router not found" in missing.output
