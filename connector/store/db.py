"""Engine, sessions and migrations.

SQLite runs in WAL mode with every transaction opened as ``BEGIN IMMEDIATE``: SQLite
has one writer at a time anyway, and taking the write lock up front turns the "read,
decide, write" of a dispatch into an exclusive section, the same guarantee PostgreSQL
gives through ``SELECT ... FOR UPDATE`` on the router row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")

#: Revision ids before the history was renamed to read in order. The old bare numbers
#: ran 0001 -> 0003 -> 0005 -> 0004 -> 0002 -> 0007 -> 0008; a database stamped with one
#: of them is re-stamped with the new id of the same revision before anything runs.
RENAMED_REVISIONS = {
    "0001": "0001_initial_schema",
    "0003": "0002_mappings",
    "0005": "0003_admin",
    "0004": "0004_salesforce",
    "0002": "0005_hubspot",
    "0007": "0006_integrity",
    "0008": "0007_account_sources",
}


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60},
                               **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below take over
            cursor = dbapi_conn.cursor()
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn) -> None:
            if conn.get_execution_options().get("read_only"):
                conn.exec_driver_sql("BEGIN")  # deferred: readers never wait for writers
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


class Database:
    """One engine and its session factory; built by ``bootstrap``, never at import."""

    def __init__(self, url: str, **engine_kwargs) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.engine.execution_options(read_only=True),
                                           expire_on_commit=False)
        #: SQLite has one writer: threads of this process queue here instead of polling
        #: SQLite's busy handler, which starves short transactions (a webhook's insert)
        #: behind a stream of others.
        self._sqlite_lock = threading.RLock() if url.startswith("sqlite") else None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        if self._sqlite_lock is not None:
            self._sqlite_lock.acquire()
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if self._sqlite_lock is not None:
                self._sqlite_lock.release()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reads only: on SQLite it does not take the write lock, so frequent
        look-ups (mapping versions, dashboards) never queue behind dispatches."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def migrate(self) -> str:
        """Bring the schema to the newest Alembic revision of every branch ("heads"), so
        migrations added side by side on feature branches all apply; returns the revision
        the database is at now. The commands print one "database ready" line instead of
        Alembic's one per revision."""
        with _quiet_alembic():
            from alembic import command

            command.upgrade(alembic_config(self.url, self.engine), "heads")
        return self.revision()

    def revision(self) -> str:
        """The Alembic revision(s) the database is stamped with, comma-separated."""
        with _quiet_alembic():
            from alembic.runtime.migration import MigrationContext

            with self.engine.connect() as connection:
                heads = MigrationContext.configure(connection).get_current_heads()
        return ", ".join(sorted(heads)) or "nothing"

    def is_empty(self) -> bool:
        return "alembic_version" not in inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic's INFO lines held back unless DEBUG logging is on."""
    alembic_log = logging.getLogger("alembic")
    previous = alembic_log.level
    if not alembic_log.isEnabledFor(logging.DEBUG):
        alembic_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        alembic_log.setLevel(previous)


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether a failed write broke a unique constraint (a duplicate), as opposed to a
    foreign key, NOT NULL or check constraint, which are bugs or races, not duplicates."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    name = getattr(orig, "sqlite_errorname", None)
    return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def alembic_config(url: str, engine: Engine | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config
