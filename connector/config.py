"""Configuration, read once from the environment.

Secrets are required only by the parts that use them, and a missing one fails at start
with its variable's name; nothing falls back to a default secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any


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
    salesforce_login_url: str = "https://login.salesforce.com"
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
    #: /v1 API: refuse plain HTTP (``request.scheme``), requests per key per minute, and
    #: how long a lead's email makes a new lead with that email a duplicate
    require_https: bool = False
    v1_rate_limit_per_minute: int = 600
    v1_duplicate_window_seconds: int = 86400

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
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
            salesforce_login_url=get("SALESFORCE_LOGIN_URL") or cls.salesforce_login_url,
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
            salesforce_burst_limit=_int(env, "SALESFORCE_BURST_LIMIT",
                                        cls.salesforce_burst_limit),
            require_https=(get("CONNECTOR_REQUIRE_HTTPS") or "").strip().lower()
            in ("1", "true", "yes"),
            v1_rate_limit_per_minute=_int(env, "CONNECTOR_V1_RATE_LIMIT",
                                          cls.v1_rate_limit_per_minute),
            v1_duplicate_window_seconds=_int(env, "CONNECTOR_V1_DUPLICATE_WINDOW_SECONDS",
                                             cls.v1_duplicate_window_seconds),
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
