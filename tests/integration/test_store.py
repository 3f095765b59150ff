"""The store's session semantics."""

from __future__ import annotations

from connector.store.db import Database


def test_read_sessions_do_not_wait_for_a_writer(tmp_path):
    """A read-only session on SQLite begins deferred, so it reads while a writer holds
    the write lock (a normal session would wait for it)."""
    from sqlalchemy import text

    db = Database(f"sqlite:///{tmp_path / 'locks.db'}")
    db.migrate()
    with db.session() as writer:
        writer.execute(text("INSERT INTO accounts (id, name, active, created_at) "
                            "VALUES ('a', 'A', 1, '2026-01-01 00:00:00')"))
        with db.read_session() as reader:
            assert reader.execute(text("SELECT count(*) FROM accounts")).scalar() == 0
    with db.read_session() as reader:
        assert reader.execute(text("SELECT count(*) FROM accounts")).scalar() == 1
    db.dispose()
