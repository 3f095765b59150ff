from alembic import context
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection

from connector.store.db import RENAMED_REVISIONS
from connector.store.models import Base

config = context.config
target_metadata = Base.metadata


def rename_old_revisions(connection: Connection) -> None:
    """Rewrite an old bare revision id in ``alembic_version`` to its new name, so an
    existing database upgrades from where it is instead of failing on an unknown id."""
    if "alembic_version" not in inspect(connection).get_table_names():
        return
    stamped = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    for old in [value for value in stamped if value in RENAMED_REVISIONS]:
        connection.execute(text("UPDATE alembic_version SET version_num = :new "
                                "WHERE version_num = :old"),
                           {"new": RENAMED_REVISIONS[old], "old": old})


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(
        config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        rename_old_revisions(connection)
        connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
