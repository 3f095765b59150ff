"""The migration history reads in order (0001_initial_schema, 0002_mappings, ...), new
databases get it, and databases stamped with an old bare revision id ("0008", or any
revision in between) upgrade from where they are, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from connector.store.db import RENAMED_REVISIONS, Database, alembic_config


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


HEAD = _head()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'migrate.db'}"


def _schema(db: Database) -> dict[str, set[str]]:
    found = inspect(db.engine)
    return {table: {c["name"] for c in found.get_columns(table)}
            for table in found.get_table_names()}


def test_history_reads_in_sequence():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    walked = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert walked == sorted(walked)
    assert walked[0] == "0001_initial_schema" and walked[-1] == HEAD
    assert [int(rev[:4]) for rev in walked] == list(range(1, len(walked) + 1))
    # every old bare id has its new name, and those are the oldest revisions
    assert sorted(RENAMED_REVISIONS.values()) == walked[:len(RENAMED_REVISIONS)]


def test_a_new_database_is_stamped_with_the_new_head(url):
    db = Database(url)
    try:
        assert db.migrate() == HEAD
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
    finally:
        db.dispose()


@pytest.mark.parametrize("old", ["0008", "0001", "0005", "0002", "0007"])
def test_a_database_at_an_old_bare_id_upgrades_from_there(url, old, tmp_path):
    fresh = Database(f"sqlite:///{tmp_path / 'reference.db'}")
    fresh.migrate()
    expected = _schema(fresh)
    fresh.dispose()

    db = Database(url)
    try:
        command.upgrade(alembic_config(url, db.engine), RENAMED_REVISIONS[old])
        with db.engine.begin() as conn:  # as the earlier releases stamped it
            conn.execute(text("UPDATE alembic_version SET version_num = :old"), {"old": old})
        assert db.is_empty() is False
        assert db.migrate() == HEAD
        assert _schema(db) == expected
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() \
                == [(HEAD,)]
    finally:
        db.dispose()
