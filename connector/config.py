"""Configuration, read once from the environment.

Secrets are required only by the parts that use them, and a missing one fails at start
with its variable's name; nothing falls back to a default secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from adapters.hubspot.paths import LATEST as HUBSPOT_LATEST_API_VERSION
from adapters.hubspot.paths import parse_api_version


class ConfigError(RuntimeError):
    """A required setting is missing or malformed; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _sla_scan_seconds(env: Mapping[str, str]) -> int:
    value = _int(env, "CONNECTOR_SLA_SCAN_SECONDS", 15)
    if not 1 <= value <= 3600:
        raise ConfigError(f"CONNECTOR_SLA_SCAN_SECONDS must be from 1 to 3600, got {value}")
    return value


def _schedule(env: Mapping[str, str], name: str) -> tuple[float, ...] | None:
    raw = env.get(name)
    if raw in (None, ""):
        return None
    try:
        steps = tuple(float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated seconds, got {raw!r}") from None
    if not steps or not all(0 < step < float("inf") for step in steps):
        raise ConfigError(f"{name} needs at least one step, each a positive number of seconds")
    return tuple(int(step) if step.is_integer() else step for step in steps)


INGEST_MODES = ("webhooks", "journal", "both")


def _ingest(raw: str | None) -> str:
    value = (raw or "webhooks").strip().lower()
    if value not in INGEST_MODES:
        raise ConfigError(f"CONNECTOR_HUBSPOT_INGEST must be one of {', '.join(INGEST_MODES)}, "
                          f"not {value[:40]!r}")
    return value


def _signature_versions(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Accepted HubSpot webhook signature versions, e.g. ``v3`` (default) or ``v3,v1``."""
    raw = env.get(name)
    if raw in (None, ""):
        return ("v3",)
    versions = tuple(dict.fromkeys(p.strip().lower() for p in raw.split(",") if p.strip()))
    unknown = [v for v in versions if v not in ("v1", "v2", "v3")]
    if unknown or not versions:
        raise ConfigError(f"{name} must be a comma-separated subset of v3,v2,v1, got {raw!r}")
    return versions


def _api_version(env: Mapping[str, str], name: str) -> str:
    try:
        return parse_api_version(env.get(name), name)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
#: the shortest ``CONNECTOR_JWT_SECRET`` accepted: HS256 keys shorter than the hash's 32-byte
#: output make forged tokens cheaper to find by guessing the secret (RFC 7518 section 3.2)
MIN_JWT_SECRET_BYTES = 32
JWT_SECRET_RECIPE = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def check_jwt_secret(secret: str | None) -> str:
    """The secret, or a ConfigError saying why it cannot sign tokens and how to make one."""
    if not secret:
        raise ConfigError("CONNECTOR_JWT_SECRET is not set; the API cannot verify tokens "
                          f"without it. Make one with: {JWT_SECRET_RECIPE}")
    size = len(secret.encode("utf-8"))
    if size < MIN_JWT_SECRET_BYTES:
        raise ConfigError(f"CONNECTOR_JWT_SECRET is {size} bytes long; it must be at least "
                          f"{MIN_JWT_SECRET_BYTES}. Make one with: {JWT_SECRET_RECIPE}")
    return secret


def _secrets(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of secrets (several at once while one is being rotated)."""
    return tuple(dict.fromkeys(p.strip() for p in (env.get(name) or "").split(",")
                               if p.strip()))


@dataclass(frozen=True)
class Config:
    database_url: str = "sqlite:///connector.db"
    executor: str = "threads"  # threads | celery | inline (tests)
    worker_threads: int = 4
    jwt_secret: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    max_body_bytes: int = 1024 * 1024
    public_url: str | None = None
    hubspot_access_token: str | None = field(default=None, repr=False)
    hubspot_client_secret: str | None = field(default=None, repr=False)
    hubspot_client_id: str | None = None
    hubspot_app_id: str | None = None
    hubspot_api_base: str = "https://api.hubapi.com"
    #: the HubSpot API version every call uses: a date (``2026-09``) or ``legacy`` (/crm/v3)
    hubspot_api_version: str = HUBSPOT_LATEST_API_VERSION
    salesforce_login_url: str = "https://login.salesforce.com"
    #: the JWT bearer assertion's ``aud``; derived from the login URL when unset
    salesforce_jwt_audience: str | None = None
    salesforce_client_id: str | None = None
    salesforce_username: str | None = None
    salesforce_private_key: str | None = field(default=None, repr=False)
    salesforce_instance_url: str | None = None
    salesforce_org_id: str | None = None
    salesforce_webhook_secret: str | None = field(default=None, repr=False)
    byoc_scrt_url: str | None = None
    byoc_org_id: str | None = None
    byoc_authorization_context: str | None = None
    byoc_route_encoding: str = "json"
    salesforce_account_id: str | None = None
    byoc_pending_timeout_seconds: int = 300
    byoc_sweep_seconds: int = 30
    celery_broker_url: str | None = None
    celery_queue: str = "connector"
    retry_schedule: tuple[float, ...] | None = None
    redis_url: str | None = None
    sweep_interval_seconds: int = 5
    lease_seconds: int = 60
    #: how long a partial batch may wait for more events while another batch is in
    #: flight (see :func:`connector.jobs.inbox.linger_left`); 0 turns lingering off
    batch_linger_ms: int = 250
    hubspot_developer_api_key: str | None = field(default=None, repr=False)
    hubspot_burst_limit: int = 190
    hubspot_signature_versions: tuple[str, ...] = ("v3",)
    salesforce_burst_limit: int = 100
    #: secrets accepted in the Outbound Message endpoint URL
    #: (``/webhooks/salesforce/outbound/<secret>``); several while one is being rotated
    salesforce_outbound_secrets: tuple[str, ...] = field(default=(), repr=False)
    #: check each Outbound Message's SessionId with Salesforce (``connector.web.
    #: salesforce_session``); the definition must have "Send Session ID" checked
    salesforce_outbound_verify_session: bool = False
    #: when set, ``GET /metrics`` needs ``Authorization: Bearer <token>``
    metrics_token: str | None = field(default=None, repr=False)
    #: how many proxies in front of the app set ``X-Forwarded-*`` (0: trust none)
    trusted_proxies: int = 0
    #: how HubSpot events come in: webhooks | journal | both (see README, "No public URL")
    hubspot_ingest: str = "webhooks"
    hubspot_journal_poll_seconds: int = 5
    #: /v1 API: refuse plain HTTP (``request.scheme``), requests per key per minute, and
    #: how long a lead's email makes a new lead with that email a duplicate
    require_https: bool = False
    v1_rate_limit_per_minute: int = 600
    v1_duplicate_window_seconds: int = 86400
    #: how often stored SLA clocks are scanned for reminders and breaches
    sla_scan_seconds: int = 15
    #: calendar feeds: allow addresses on private or loopback networks (tests, labs)
    calendar_allow_private_feeds: bool = False
    #: how often every calendar feed is fetched (conditionally: ETag / If-Modified-Since)
    calendar_refresh_seconds: int = 900

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """From ``env``, or else the process environment over the instance file
        (``instance/connector.env``, see :mod:`connector.instance`)."""
        if env is None:
            from connector.instance import environ_with_instance

            env = environ_with_instance()
        get = env.get
        return cls(
            database_url=get("DATABASE_URL") or cls.database_url,
            executor=get("CONNECTOR_EXECUTOR") or cls.executor,
            worker_threads=_int(env, "CONNECTOR_WORKER_THREADS", cls.worker_threads),
            jwt_secret=get("CONNECTOR_JWT_SECRET") or None,
            secret_key=get("CONNECTOR_SECRET_KEY") or None,
            max_body_bytes=_int(env, "CONNECTOR_MAX_BODY_BYTES", cls.max_body_bytes),
            public_url=get("CONNECTOR_PUBLIC_URL") or None,
            hubspot_access_token=get("HUBSPOT_ACCESS_TOKEN") or None,
            hubspot_client_secret=get("HUBSPOT_CLIENT_SECRET") or None,
            hubspot_client_id=get("HUBSPOT_CLIENT_ID") or None,
            hubspot_app_id=get("HUBSPOT_APP_ID") or None,
            hubspot_api_base=get("HUBSPOT_API_BASE") or cls.hubspot_api_base,
            hubspot_api_version=_api_version(env, "HUBSPOT_API_VERSION"),
            salesforce_login_url=get("SALESFORCE_LOGIN_URL") or cls.salesforce_login_url,
            salesforce_jwt_audience=get("SALESFORCE_JWT_AUDIENCE") or None,
            salesforce_client_id=get("SALESFORCE_CLIENT_ID") or None,
            salesforce_username=get("SALESFORCE_USERNAME") or None,
            salesforce_private_key=get("SALESFORCE_PRIVATE_KEY") or None,
            salesforce_instance_url=get("SALESFORCE_INSTANCE_URL") or None,
            salesforce_org_id=get("SALESFORCE_ORG_ID") or None,
            salesforce_webhook_secret=get("SALESFORCE_WEBHOOK_SECRET") or None,
            byoc_scrt_url=get("BYOC_SCRT_URL") or None,
            byoc_org_id=get("BYOC_ORG_ID") or None,
            byoc_authorization_context=get("BYOC_AUTHORIZATION_CONTEXT") or None,
            byoc_route_encoding=get("BYOC_ROUTE_ENCODING") or cls.byoc_route_encoding,
            salesforce_account_id=get("SALESFORCE_ACCOUNT_ID") or None,
            byoc_pending_timeout_seconds=_int(env, "BYOC_PENDING_TIMEOUT_SECONDS",
                                              cls.byoc_pending_timeout_seconds),
            byoc_sweep_seconds=_int(env, "BYOC_SWEEP_SECONDS", cls.byoc_sweep_seconds),
            celery_broker_url=get("CELERY_BROKER_URL") or None,
            celery_queue=get("CONNECTOR_CELERY_QUEUE") or cls.celery_queue,
            retry_schedule=_schedule(env, "CONNECTOR_RETRY_SCHEDULE"),
            redis_url=get("REDIS_URL") or None,
            sweep_interval_seconds=_int(env, "CONNECTOR_SWEEP_SECONDS",
                                        cls.sweep_interval_seconds),
            lease_seconds=_int(env, "CONNECTOR_LEASE_SECONDS", cls.lease_seconds),
            batch_linger_ms=_int(env, "CONNECTOR_BATCH_LINGER_MS", cls.batch_linger_ms),
            hubspot_developer_api_key=get("HUBSPOT_DEVELOPER_API_KEY") or None,
            hubspot_burst_limit=_int(env, "HUBSPOT_BURST_LIMIT", cls.hubspot_burst_limit),
            hubspot_signature_versions=_signature_versions(env, "HUBSPOT_SIGNATURE_VERSIONS"),
            hubspot_ingest=_ingest(env.get("CONNECTOR_HUBSPOT_INGEST")),
            hubspot_journal_poll_seconds=_int(env, "HUBSPOT_JOURNAL_POLL_SECONDS",
                                              cls.hubspot_journal_poll_seconds),
            salesforce_burst_limit=_int(env, "SALESFORCE_BURST_LIMIT",
                                        cls.salesforce_burst_limit),
            salesforce_outbound_secrets=_secrets(env, "SALESFORCE_OUTBOUND_SECRETS"),
            salesforce_outbound_verify_session=(
                get("SALESFORCE_OUTBOUND_VERIFY_SESSION") or "").strip().lower()
            in ("1", "true", "yes"),
            sla_scan_seconds=_sla_scan_seconds(env),
            metrics_token=get("CONNECTOR_METRICS_TOKEN") or None,
            trusted_proxies=_int(env, "CONNECTOR_TRUSTED_PROXIES", cls.trusted_proxies),
            require_https=(get("CONNECTOR_REQUIRE_HTTPS") or "").strip().lower()
            in ("1", "true", "yes"),
            v1_rate_limit_per_minute=_int(env, "CONNECTOR_V1_RATE_LIMIT",
                                          cls.v1_rate_limit_per_minute),
            v1_duplicate_window_seconds=_int(env, "CONNECTOR_V1_DUPLICATE_WINDOW_SECONDS",
                                             cls.v1_duplicate_window_seconds),
            calendar_allow_private_feeds=(get("CALENDAR_ALLOW_PRIVATE_FEEDS") or "")
            .strip().lower() in ("1", "true", "yes"),
            calendar_refresh_seconds=_int(env, "CALENDAR_REFRESH_SECONDS",
                                          cls.calendar_refresh_seconds),
        )

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Config:
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        return replace(self, **overrides)

    def require(self, attribute: str, variable: str) -> str:
        value = getattr(self, attribute)
        if not value:
            raise ConfigError(f"{variable} is not set; it is required for this command")
        return value
