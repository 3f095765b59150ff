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
                          mappings=overrides.pop("mappings", None) or MappingRegistry())
    container.extras.update(overrides)
    _observe_batches(container)
    if start_executor:
        from connector.jobs.executors import build_executor

        container.executor = build_executor(container)
        container.executor.start()
    return container


#: HubSpot's burst limit per portal and rolling window (Professional/Enterprise apps).
HUBSPOT_BURST = (190, 10.0)


def shared_budget(container: Container, crm: str, account_key: str, *, max_calls: int,
                  window: float) -> Any:
    """The call budget for one CRM account (HubSpot portal, Salesforce org), shared through
    Redis when ``REDIS_URL`` is set so that every worker together stays under the CRM's
    limit; ``None`` otherwise, and the adapter keeps its in-process window."""
    url = container.config.redis_url
    if not url:
        return None
    budgets = container.extras.setdefault("budgets", {})
    key = (crm, str(account_key))
    if key not in budgets:
        import redis

        from adapters.common.redis_window import RedisSlidingWindow

        client = container.extras.get("redis")
        if client is None:
            client = container.extras["redis"] = redis.Redis.from_url(
                url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30)
        prefix = container.extras.get("budget_prefix", "connector:budget")
        budgets[key] = RedisSlidingWindow(client, f"{prefix}:{crm}:{account_key}", max_calls,
                                          window, what=crm)
    return budgets[key]


def hubspot_budget(container: Container, portal_id: str | int) -> Any:
    """The per-portal HubSpot budget: Redis-shared when configured, else in-process."""
    max_calls, window = HUBSPOT_BURST
    budget = shared_budget(container, "hubspot", str(portal_id), max_calls=max_calls,
                           window=window)
    if budget is None:
        from adapters.hubspot.budget import SlidingWindowBudget

        budget = SlidingWindowBudget(max_calls, window)
    return budget


def _observe_batches(container: Container) -> None:
    """Count every processed batch in the metrics (see connector.metrics)."""
    from connector.metrics import observe_batch

    observers = container.extras.setdefault("batch_observers", [])
    if observe_batch not in observers:
        observers.append(observe_batch)
