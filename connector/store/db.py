"""Engine, sessions and migrations.

SQLite runs in WAL mode with every transaction opened as ``BEGIN IMMEDIATE``: SQLite
has one writer at a time anyway, and taking the write lock up front turns the "read,
decide, write" of a dispatch into an exclusive section, the same guarantee PostgreSQL
gives through ``SELECT ... FOR UPDATE`` on the router row.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
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


class WriteLock:
    """The process's turn at SQLite's single write lock, with a fast lane.

    Threads queue here instead of polling SQLite's busy handler, which starves short
    transactions behind a stream of others. Holders taken with ``priority=True`` (the
    inbox insert behind every webhook acknowledgement: a few rows, milliseconds) go before
    ordinary waiters (dispatches, batches); after ``PRIORITY_STREAK`` of them in a row an
    ordinary waiter gets a turn. So an acknowledgement waits for the transaction in progress
    and the few acknowledgements ahead of it (the acknowledgement lane has a handful of
    threads), never for the queue of dispatches, and a stream of acknowledgements never
    starves the API. Each lane is served in arrival order. Re-entrant for the thread that
    holds it, like the RLock it replaces. ``threading`` has no lock with priorities or
    arrival order, hence this class.
    """

    #: fast-lane holders in a row before an ordinary waiter gets its turn
    PRIORITY_STREAK = 8

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        #: waiters as (gate, thread id); the holder hands the lock to the first of
        #: ``_priority``, else of ``_ordinary``, by releasing its gate (no thundering herd)
        self._priority: deque[tuple[threading.Lock, int]] = deque()
        self._ordinary: deque[tuple[threading.Lock, int]] = deque()
        self._streak = 0  # fast-lane holders in a row since the last ordinary one

    def acquire(self, *, priority: bool = False) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None:
                self._owner, self._depth = me, 1
                return
            gate = threading.Lock()
            gate.acquire()
            (self._priority if priority else self._ordinary).append((gate, me))
        gate.acquire()  # the holder made us the owner before releasing the gate

    def release(self) -> None:
        with self._mutex:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a write lock this thread does not hold")
            self._depth -= 1
            if self._depth:
                return
            # the fast lane goes first, but hands over to an ordinary waiter after
            # PRIORITY_STREAK of its writes in a row, so acknowledgements never starve the API
            if self._priority and (not self._ordinary or self._streak < self.PRIORITY_STREAK):
                queue, self._streak = self._priority, self._streak + 1
            else:
                queue, self._streak = self._ordinary, 0
            if not queue:
                self._owner = None
                return
            gate, self._owner = queue.popleft()
            self._depth = 1
            gate.release()


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
        from .router_cache import RouterCache, bump_routing_versions

        event.listen(self._sessions, "before_flush", bump_routing_versions)
        #: routers' settings and reps, valid while their account's routing version holds
        self.router_cache = RouterCache()
        #: SQLite has one writer: threads of this process take turns here (see WriteLock)
        self._sqlite_lock = WriteLock() if url.startswith("sqlite") else None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self, *, priority: bool = False) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error. ``priority``: a
        short write that someone is waiting on (an acknowledgement); on SQLite it takes the
        write lock ahead of the queue. Keep such transactions to a few rows."""
        if self._sqlite_lock is not None:
            self._sqlite_lock.acquire(priority=priority)
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
