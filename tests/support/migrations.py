"""The newest migration, as the commands name it in "database ready (migrated to …)"."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from connector.store.db import alembic_config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


READY_LINE = f"database ready (migrated to {head_revision()})"
