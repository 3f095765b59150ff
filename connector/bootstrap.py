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
        for stop in self.extras.get("closers", []):
            stop()
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
    wire_salesforce(container, start_sweeper=start_executor)
    if start_executor:
        from connector.jobs.executors import build_executor

        container.executor = build_executor(container)
        container.executor.start()
    return container


def wire_salesforce(container: Container, *, start_sweeper: bool = False) -> None:
    """Salesforce: the inbox handler, the webhook routes, and the adapters behind the
    ports when their settings are present (tests may pass ``salesforce_ports``)."""
    from connector.config import ConfigError
    from connector.service.byoc import SalesforcePorts
    from connector.service.salesforce_events import handle_events
    from connector.web import salesforce as salesforce_web

    extras = container.extras
    extras.setdefault("handlers", {}).setdefault("salesforce", handle_events)
    extras.setdefault("blueprints", []).append(salesforce_web.register)
    config = container.config
    if "salesforce_ports" not in extras:
        try:
            extras["salesforce_ports"] = _salesforce_ports(config)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    ports: SalesforcePorts = extras["salesforce_ports"]
    if start_sweeper and ports.conversations is not None:
        from connector.jobs.periodic import Periodic
        from connector.service.byoc import sweep_stale

        sweeper = Periodic("byoc-psr-sweep", config.byoc_sweep_seconds,
                           lambda: sweep_stale(container.db, ports))
        sweeper.start()
        extras.setdefault("closers", []).append(sweeper.stop)


def _salesforce_ports(config: Config):
    from connector.service.byoc import SalesforcePorts

    ports = SalesforcePorts(account_id=config.salesforce_account_id,
                            pending_timeout_seconds=config.byoc_pending_timeout_seconds)
    jwt_settings = {"SALESFORCE_CLIENT_ID": config.salesforce_client_id,
                    "SALESFORCE_USERNAME": config.salesforce_username,
                    "SALESFORCE_PRIVATE_KEY": config.salesforce_private_key}
    missing = [name for name, value in jwt_settings.items() if not value]
    if len(missing) == len(jwt_settings) and not config.byoc_scrt_url:
        return ports
    if missing:
        raise ValueError(f"{', '.join(missing)} not set; the Salesforce JWT bearer login "
                         "needs SALESFORCE_CLIENT_ID, SALESFORCE_USERNAME and "
                         "SALESFORCE_PRIVATE_KEY")
    from adapters.salesforce.auth import JwtBearerAuth, load_private_key
    from adapters.salesforce.interaction import InteractionClient
    from adapters.salesforce.records import SalesforceRecords

    auth = JwtBearerAuth(login_url=config.salesforce_login_url,
                         client_id=config.salesforce_client_id,
                         username=config.salesforce_username,
                         private_key=load_private_key(config.salesforce_private_key))
    records = SalesforceRecords(auth)
    ports.directory = ports.queues = ports.writer = records
    if config.byoc_scrt_url:
        ports.conversations = InteractionClient(
            scrt_url=config.byoc_scrt_url,
            org_id=config.byoc_org_id or config.salesforce_org_id or "",
            authorization_context=config.byoc_authorization_context or "",
            auth=auth, encoding=config.byoc_route_encoding)
    return ports
