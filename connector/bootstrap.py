"""The one place that wires configuration, the store, the executor and the CRM adapters.

Entry points (the web app, the CLI, workers) call ``bootstrap`` and get a ``Container``;
tests pass fakes in through ``overrides``. Nothing here runs at import time.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.config import Config, ConfigError
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
    migrated_to = db.migrate() if migrate and db.is_empty() else None
    container = Container(config=config, db=db, owner_sync=overrides.pop("owner_sync", None),
                          mappings=overrides.pop("mappings", None) or MappingRegistry(db=db))
    if migrated_to:
        #: the commands print "database ready (migrated to ...)" from this
        container.extras["migrated_to"] = migrated_to
    container.extras.update(overrides)
    from connector.service import dispatch_async

    container.extras.setdefault("handlers", {}).setdefault(dispatch_async.KIND,
                                                           dispatch_async.handle_dispatches)
    from connector.service import notifications

    container.extras["handlers"].setdefault(notifications.KIND,
                                            notifications.handle_notifications)
    wire_hubspot(container)
    wire_hubspot_journal(container, start=start_executor)
    wire_salesforce(container, start_sweeper=start_executor)
    wire_sla_scanner(container, start=start_executor)

    _observe_batches(container)
    _wire_matching()
    wire_calendars(container, start=start_executor)
    if config.retry_schedule:
        from connector.jobs import inbox

        inbox.RETRY_SCHEDULE = config.retry_schedule  # process-wide, as the schedule is
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
    from connector.service.salesforce_records import KIND_OWNER, handle_owner_writes
    from connector.web import salesforce as salesforce_web

    extras = container.extras
    extras.setdefault("handlers", {}).setdefault("salesforce", handle_events)
    extras["handlers"].setdefault(KIND_OWNER, handle_owner_writes)
    extras.setdefault("blueprints", []).append(salesforce_web.register)
    config = container.config
    if "salesforce_ports" not in extras:
        try:
            extras["salesforce_ports"] = _salesforce_ports(container)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    ports: SalesforcePorts = extras["salesforce_ports"]
    register_salesforce_org(container, ports)
    if start_sweeper and ports.conversations is not None:
        from connector.jobs.periodic import Periodic
        from connector.service.byoc import sweep_stale

        sweeper = Periodic("byoc-psr-sweep", config.byoc_sweep_seconds,
                           lambda: sweep_stale(container.db, ports))
        sweeper.start()
        extras.setdefault("closers", []).append(sweeper.stop)


def register_salesforce_org(container: Container, ports) -> None:
    """Link the configured org to its account at start (see ``connector.service.sources``)."""
    from sqlalchemy.exc import SQLAlchemyError

    from connector.service.sources import register_configured_org

    config = container.config
    org = config.salesforce_org_id or config.byoc_org_id
    if not org or container.db.is_empty():
        return
    try:
        register_configured_org(container.db, org, ports.account_id)
    except SQLAlchemyError as exc:  # a schema not migrated yet: the first webhook retries
        log.warning("could not connect Salesforce org %s at start: %s", org[:15], exc)


def _salesforce_ports(container: Container):
    from connector.service.byoc import SalesforcePorts

    config = container.config
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
                         private_key=load_private_key(config.salesforce_private_key),
                         audience=config.salesforce_jwt_audience)
    budget = salesforce_budget(container, config.salesforce_org_id or config.byoc_org_id or "")
    records = SalesforceRecords(auth, budget=budget)
    ports.directory = ports.queues = ports.writer = records
    if config.byoc_scrt_url:
        ports.conversations = InteractionClient(
            scrt_url=config.byoc_scrt_url,
            org_id=config.byoc_org_id or config.salesforce_org_id or "",
            authorization_context=config.byoc_authorization_context or "",
            auth=auth, encoding=config.byoc_route_encoding, budget=budget)
    return ports

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
    max_calls, window = max(1, container.config.hubspot_burst_limit), HUBSPOT_BURST[1]
    budget = shared_budget(container, "hubspot", str(portal_id), max_calls=max_calls,
                           window=window)
    if budget is None:
        from adapters.hubspot.budget import SlidingWindowBudget

        budget = SlidingWindowBudget(max_calls, window)
    return budget


def salesforce_budget(container: Container, org_id: str) -> Any:
    """The per-org Salesforce budget (``SALESFORCE_BURST_LIMIT`` calls per rolling 10 s,
    REST and Interaction Service together): Redis-shared when configured, else in-process.
    It spreads the org's daily API allocation instead of letting a backlog burst it."""
    max_calls, window = max(1, container.config.salesforce_burst_limit), 10.0
    key = org_id[:15] or "default"
    budget = shared_budget(container, "salesforce", key, max_calls=max_calls, window=window)
    if budget is None:
        from adapters.hubspot.budget import SlidingWindowBudget

        budget = SlidingWindowBudget(max_calls, window)
    return budget


def _crm_session(crm: str, account_key: str) -> Any:
    """A requests session whose answers are counted in the metrics, by portal/org."""
    import requests

    from connector.metrics import instrument_session

    return instrument_session(requests.Session(), crm, account_key)


def _observe_batches(container: Container) -> None:
    """Count every processed batch in the metrics (see connector.metrics)."""
    from connector.metrics import observe_batch

    observers = container.extras.setdefault("batch_observers", [])
    if observe_batch not in observers:
        observers.append(observe_batch)


def wire_hubspot(container: Container) -> None:
    """HubSpot: portals and their clients, the webhook receiver, OAuth, the inbox handlers
    and the owner write-back of ``POST /dispatch/router``. What tests already put in
    ``extras`` (``hubspot``, ``handlers``, ``object_lookup``) is kept."""
    import threading

    from adapters.hubspot.auth import OAuthTokens, StaticToken, TokenSet
    from adapters.hubspot.budget import SlidingWindowBudget
    from adapters.hubspot.client import HubSpotClient, OwnersEpoch
    from adapters.hubspot.inbound import WebhookReceiver
    from adapters.hubspot.oauth_info import hub_id_for_token
    from adapters.hubspot.project import OAUTH_CALLBACK_PATH
    from adapters.hubspot.transport import RetryPolicy
    from connector.core.errors import AuthenticationFailed
    from connector.service import hubspot_owner_sync, hubspot_processing, hubspot_workflow
    from connector.service.hubspot_portals import HubSpotServices, PortalRegistry, StoredTokens
    from connector.store.crypto import TokenCipher

    config = container.config
    budgets: dict[str, SlidingWindowBudget] = {}
    budgets_lock = threading.Lock()
    owners_epochs: dict[str, OwnersEpoch] = {}
    public_url = (config.public_url or "").rstrip("/")

    def oauth(tokens: TokenSet | None = None, on_tokens=None) -> OAuthTokens | None:
        if not (config.hubspot_client_id and config.hubspot_client_secret and public_url
                and config.secret_key):
            return None
        return OAuthTokens(config.hubspot_client_id, config.hubspot_client_secret,
                           public_url + OAUTH_CALLBACK_PATH, tokens=tokens,
                           on_tokens=on_tokens, base_url=config.hubspot_api_base)

    def client_factory(portal_id: str, tokens: StoredTokens | None, save, interactive: bool):
        with budgets_lock:
            budget = budgets.get(portal_id) or hubspot_budget(container, portal_id)
            budgets[portal_id] = budget
            owners_epoch = owners_epochs.setdefault(portal_id, OwnersEpoch())
        if tokens is not None:
            provider = oauth(TokenSet(tokens.access_token, tokens.refresh_token,
                                      tokens.expires_at),
                             lambda t: save(StoredTokens(t.access_token, t.refresh_token,
                                                         t.expires_at)))
            if provider is None:
                raise AuthenticationFailed(f"portal {portal_id} has OAuth tokens but "
                                           "HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, "
                                           "CONNECTOR_PUBLIC_URL or CONNECTOR_SECRET_KEY is "
                                           "not set")
        elif config.hubspot_access_token:
            provider = StaticToken(config.hubspot_access_token)
        else:
            raise AuthenticationFailed(f"no HubSpot credentials for portal {portal_id}: "
                                       "install the app or set HUBSPOT_ACCESS_TOKEN")
        retry = RetryPolicy(max_attempts=3, max_total_seconds=10.0) if interactive \
            else RetryPolicy()
        return HubSpotClient(provider, base_url=config.hubspot_api_base, budget=budget,
                             retry=retry, session=_crm_session("hubspot", portal_id),
                             owners_epoch=owners_epoch, api_version=config.hubspot_api_version)

    if "hubspot" not in container.extras:
        try:
            cipher = TokenCipher(config.secret_key) if config.secret_key else None
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        receiver = None
        if config.hubspot_client_secret:
            receiver = WebhookReceiver(config.hubspot_client_secret, public_url=public_url or None,
                                       app_id=config.hubspot_app_id,
                                       versions=config.hubspot_signature_versions)
        container.extras["hubspot"] = HubSpotServices(
            portals=PortalRegistry(container.db, client_factory, cipher=cipher),
            receiver=receiver, oauth=oauth,
            hub_id_for=lambda token: hub_id_for_token(config.hubspot_api_base, token),
            scopes=hubspot_install_scopes(container))
    services = container.extras["hubspot"]
    handlers = container.extras.setdefault("handlers", {})
    handlers.setdefault(hubspot_processing.KIND_EVENTS, hubspot_processing.handle_events)
    handlers.setdefault(hubspot_workflow.KIND, hubspot_workflow.handle_actions)
    from adapters.hubspot.callbacks import DATED_VERSION, complete_callbacks

    # the callbacks API has one dated version (2026-03); a legacy app keeps the v4 path
    callbacks_version = "legacy" if config.hubspot_api_version == "legacy" else DATED_VERSION
    container.extras.setdefault("hubspot_callbacks", functools.partial(
        complete_callbacks, version=callbacks_version))
    handlers.setdefault(hubspot_owner_sync.KIND_SYNC, hubspot_owner_sync.handle_owner_sync)
    from connector.service import lead_crm

    container.extras.setdefault("lead_crm", lead_crm.LeadCrm(container))
    handlers.setdefault(lead_crm.KIND, lead_crm.handle_lead_crm)
    container.extras.setdefault("object_lookup", hubspot_owner_sync.lookup_object)
    if not isinstance(container.owner_sync, hubspot_owner_sync.HubSpotOwnerSync):
        container.owner_sync = hubspot_owner_sync.HubSpotOwnerSync(
            container.db, services.portals, fallback=container.owner_sync)


def wire_hubspot_journal(container: Container, *, start: bool = False) -> None:
    """``CONNECTOR_HUBSPOT_INGEST=journal|both``: the journal poller, run every
    ``HUBSPOT_JOURNAL_POLL_SECONDS`` on a thread of this process, unless Celery runs the
    work (then the beat schedule of ``connector.jobs.celery_app`` polls)."""
    config = container.config
    if config.hubspot_ingest == "webhooks" or "hubspot_journal" in container.extras:
        return
    from adapters.hubspot.inbound import WebhookReceiver
    from adapters.hubspot.journal import JournalClient
    from connector.config import ConfigError
    from connector.service.hubspot_journal import JournalPoller, poll_safely

    if not (config.hubspot_client_id and config.hubspot_client_secret):
        raise ConfigError(f"CONNECTOR_HUBSPOT_INGEST={config.hubspot_ingest} needs "
                          "HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET (the journal is read "
                          "with a client credentials token)")
    client = JournalClient(config.hubspot_client_id, config.hubspot_client_secret,
                           base_url=config.hubspot_api_base)
    parse = WebhookReceiver(config.hubspot_client_secret, app_id=config.hubspot_app_id).parse
    poller = container.extras["hubspot_journal"] = JournalPoller(container, client, parse)
    if start and config.executor != "celery":
        from connector.jobs.periodic import Periodic

        periodic = Periodic("hubspot-journal", config.hubspot_journal_poll_seconds,
                            lambda: poll_safely(poller))
        periodic.start()
        container.extras.setdefault("closers", []).append(periodic.stop)


def wire_sla_scanner(container: Container, *, start: bool = False) -> None:
    """SLA clocks scanned every ``CONNECTOR_SLA_SCAN_SECONDS`` on a thread of this process,
    unless Celery runs the work (then the beat schedule of ``connector.jobs.celery_app``
    scans). Several scanners are safe: each breach is claimed by one."""
    if not start or container.config.executor == "celery":
        return
    from connector.jobs.periodic import Periodic
    from connector.service.sla import scan_now

    periodic = Periodic("sla-scan", container.config.sla_scan_seconds,
                        lambda: scan_now(container))
    periodic.start()
    container.extras.setdefault("closers", []).append(periodic.stop)


def hubspot_install_scopes(container: Container) -> tuple[str, ...]:
    """The OAuth scopes the public app asks for at install: read and write of every HubSpot
    object type that has a field mapping (so every type a router can route), and owners."""
    from adapters.hubspot.client import object_path
    from adapters.hubspot.scopes import scopes_for
    from connector.core.errors import PermanentCrmError

    types = []
    for source, obj in container.mappings.known():
        if source != "hubspot":
            continue
        try:
            types.append(object_path(obj))
        except PermanentCrmError:  # a mapping for an object the client cannot write yet
            log.warning("no HubSpot scopes known for mapped object %r", obj)
    return scopes_for(types)


def hubspot_subscriptions_client(config: Config):
    """The webhook-subscriptions client of the public app (developer API key)."""
    from adapters.hubspot.subscriptions import SubscriptionsClient

    app_id = config.require("hubspot_app_id", "HUBSPOT_APP_ID")
    key = config.require("hubspot_developer_api_key", "HUBSPOT_DEVELOPER_API_KEY")
    return SubscriptionsClient(app_id, key, base_url=config.hubspot_api_base)


def plan_hubspot_subscriptions(wanted, existing, *, delete_unwanted: bool = False):
    from adapters.hubspot.subscriptions import plan_subscriptions

    return plan_subscriptions(wanted, existing, delete_unwanted=delete_unwanted)


def hubspot_fakes():
    """The fake HubSpot server, its webhook sender and event builder (demo, benchmark)."""
    from adapters.hubspot.fake_server import FakeHubSpot, WebhookSender, make_event

    return FakeHubSpot, WebhookSender, make_event


def _wire_matching() -> None:
    """The public suffix list and name scorer lead-to-account matching uses (built on
    first use)."""
    from adapters.matching import PublicSuffixSplitter, RapidfuzzNameScorer
    from connector.service import routing_depth

    routing_depth.use_ports(lambda: routing_depth.MatchPorts(PublicSuffixSplitter(),
                                                             RapidfuzzNameScorer()))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def wire_calendars(container: Container, *, start: bool = False) -> None:
    """``extras["calendar_refresh"]``: one round over every rep's calendar feed; run every
    ``CALENDAR_REFRESH_SECONDS`` on a thread of this process, unless Celery runs the work
    (then the beat schedule of ``connector.jobs.celery_app`` does). Needs
    ``CONNECTOR_SECRET_KEY`` (feed addresses are encrypted with it)."""
    config = container.config
    if not config.secret_key or "calendar_refresh" in container.extras:
        return
    from adapters.calendars.feed import FeedCopy, FeedFetcher
    from adapters.calendars.ics import events_between
    from connector.service import calendars

    box = calendars.cipher(config.secret_key)
    fetcher = FeedFetcher()

    def refresh() -> list:
        return calendars.refresh_all(container.db, box, fetcher, FeedCopy, events_between,
                                     now=container.extras.get("now", _utcnow)(),
                                     allow_private=config.calendar_allow_private_feeds)

    container.extras["calendar_refresh"] = refresh
    if start and config.executor != "celery":
        from connector.jobs.periodic import Periodic

        periodic = Periodic("calendar-feeds", config.calendar_refresh_seconds, refresh)
        periodic.start()
        container.extras.setdefault("closers", []).append(periodic.stop)
