"""The notification inbox's entry point, as the SLA scanner calls it.

Placeholder: the durable implementation (stored messages, Slack, email and signed
webhooks with retries, dead letters and replay) replaces this module, with this same
signature. Until then calls are only recorded in ``SENT``, in memory; nothing is stored
or delivered.
"""

from __future__ import annotations

from typing import Any

#: every call made, in order (the durable implementation stores them instead)
SENT: list[dict[str, Any]] = []


def enqueue_notification(session: Any, *, account_id: str, kind: str, record_ref: dict,
                         rep_id: str | None, recipients: list[str], payload: dict) -> None:
    """Queue a notification in the caller's transaction. ``kind`` is e.g. "sla.reminder",
    "sla.breach" or "sla.reassigned"; ``payload`` holds the record link, the owner's name
    and email, the SLA left (seconds), the stage and the monitor id."""
    SENT.append({"account_id": account_id, "kind": kind, "record_ref": dict(record_ref),
                 "rep_id": rep_id, "recipients": list(recipients), "payload": dict(payload)})
