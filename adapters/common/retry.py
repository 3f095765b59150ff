"""Bounds on retrying one CRM call, shared by the adapters (each maps its own errors)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``max_attempts`` tries within ``max_total_seconds``; exponential backoff with
    full jitter from ``backoff_base`` up to ``backoff_max``; a CRM's ``Retry-After`` is
    honoured up to ``retry_after_cap``. Tests use tiny waits."""

    max_attempts: int = 5
    max_total_seconds: float = 60.0
    backoff_base: float = 0.5
    backoff_max: float = 20.0
    retry_after_cap: float = 30.0
