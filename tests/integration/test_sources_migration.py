"""Revision 0007_account_sources (once 0008) moves the portal-to-account mapping of
hubspot_portals into account_sources, keeping the tokens, and can be undone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import insert, inspect, select, text

from connector.store.db import Database, alembic_config
from connector.store.models import AccountRow


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'migrate.db'}"


def test_portals_move_into_the_one_mapping(url):
    db = Database(url)
    config = alembic_config(url, db.engine)
    try:
        command.upgrade(config, "0005_hubspot")
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            for account in ("a1", "a2"):
                conn.execute(insert(AccountRow).values(id=account, name=account, active=True,
                                                       created_at=now))
            conn.execute(text(
                "INSERT INTO hubspot_portals (portal_id, account_id, access_token_enc, "
                "created_at, updated_at) VALUES ('111', 'a1', 'enc', :t, :t), "
                "('222', 'a2', NULL, :t, :t)"), {"t": now})
            # the console had linked portal 222 to the wrong account: the portal row wins
            conn.execute(text("INSERT INTO account_sources (source, account_key, account_id) "
                              "VALUES ('hubspot', '222', 'a1'), ('salesforce', '00Dx', 'a2')"))

        command.upgrade(config, "heads")

        with db.engine.connect() as conn:
            linked = set(conn.execute(text(
                "SELECT source, account_key, account_id FROM account_sources")))
            tokens = dict(conn.execute(text(
                "SELECT portal_id, access_token_enc FROM hubspot_portals")).all())
            assert conn.scalar(select(text("count(*)")).select_from(
                text("account_sources")).where(text("created_at IS NULL"))) == 0
        assert linked == {("hubspot", "111", "a1"), ("hubspot", "222", "a2"),
                          ("salesforce", "00Dx", "a2")}
        assert tokens == {"111": "enc", "222": None}
        assert "account_id" not in {c["name"] for c in
                                    inspect(db.engine).get_columns("hubspot_portals")}

        command.downgrade(config, "0005_hubspot")
        with db.engine.connect() as conn:
            portals = set(conn.execute(text(
                "SELECT portal_id, account_id FROM hubspot_portals")))
        assert portals == {("111", "a1"), ("222", "a2")}
    finally:
        db.dispose()
