"""The one place that wires configuration, the store, the executor and the CRM adapters.

Entry points (the web app, the CLI, workers) call ``bootstrap`` and get a ``Container``;
tests pass fakes in through ``overrides``. Nothing here runs at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from connector.config import Config
from connector.mapping import MappingRegistry
from connector.service.dispatch import OwnerSync
from connector.store.db import Database

log = logging.getLogger(__name__)


@dataclass
class Container:
    config: Config
    db: Database
    owner_sync: OwnerSync | None = None
    mappings: MappingRegistry = field(default_factory=MappingRegistry)
    executor: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        if self.executor is not None and hasattr(self.executor, "stop"):
            self.executor.stop()
        self.db.dispose()


def bootstrap(config: Config | None = None, *, migrate: bool = True,
              start_executor: bool = False, **overrides: Any) -> Container:
    """Build the container. ``migrate`` applies migrations to an empty database."""
    config = config or Config.from_env()
    db = overrides.pop("db", None) or Database(config.database_url)
    if migrate and db.is_empty():
        log.info("empty database: applying migrations")
        db.migrate()
    container = Container(config=config, db=db, owner_sync=overrides.pop("owner_sync", None),
                          mappings=overrides.pop("mappings", None) or MappingRegistry(db=db))
    container.extras.update(overrides)
    if start_executor:
        from connector.jobs.executors import build_executor

        container.executor = build_executor(container)
        container.executor.start()
    return container
