"""Reads whose rows outlive the session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from .db import Database


@contextmanager
def detached(db: Database) -> Iterator[Session]:
    """``db.read_session()`` whose loaded rows stay readable afterwards: they are
    detached before the read session's closing rollback, which would expire them."""
    with db.read_session() as session:
        yield session
        session.expunge_all()
