"""Notifications people read (SLA reminders, breaches, reassignments), delivered through
the inbox.

``enqueue_notification`` runs inside the caller's transaction (an SLA escalation writes
its state and its notifications together, or neither) and stores one inbox event per
channel that should carry the message: each delivery is then retried, dead-lettered and
replayed on its own, and a Slack outage never resends the email. The event key is derived
from the notification, so enqueueing the same one twice stores it once.

Channels belong to an account; their secrets (incoming-webhook URL, bot token, SMTP
password, signing secret) are encrypted with ``CONNECTOR_SECRET_KEY`` and never returned,
logged or written into an inbox error. A rep's preferences choose the channels that carry
notifications about their records and the kinds they mute.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from connector.jobs.inbox import InboxEvent, Permanent
from connector.store.crypto import CredentialError, TokenCipher
from connector.store.db import Database
from connector.store.models import (
    InboxEventRow,
    NotificationChannelRow,
    NotificationPreferenceRow,
    RepRow,
    new_id,
)
from connector.store.reads import detached

from .v1_errors import V1Error

log = logging.getLogger(__name__)

KIND = "notification"
SOURCE = "notifications"
KINDS = ("sla.reminder", "sla.breach", "sla.reassigned")
TYPES = ("slack_webhook", "slack_bot", "email", "webhook")
PURPOSE = b"notification-channels"
MAX_RECIPIENTS = 50
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
#: per type: (shown settings: required?), (secret fields: required?)
FIELDS: dict[str, tuple[dict[str, bool], dict[str, bool]]] = {
    "slack_webhook": ({}, {"webhook_url": True}),
    "slack_bot": ({"channel": True}, {"bot_token": True}),
    "email": ({"smtp_host": True, "smtp_port": False, "from": True, "to": False,
               "security": False, "username": False}, {"password": False}),
    "webhook": ({}, {"url": True, "signing_secret": True}),
}
TITLES = {"sla.reminder": "SLA reminder", "sla.breach": "SLA breached",
          "sla.reassigned": "Record reassigned"}


def cipher(secret_key: str | None) -> TokenCipher:
    if not secret_key:
        raise V1Error(409, "Notification channels need CONNECTOR_SECRET_KEY to encrypt "
                      "their secrets; it is not set")
    return TokenCipher(secret_key, PURPOSE)


# --- enqueueing ------------------------------------------------------------------------

def enqueue_notification(session: Session, *, account_id: str, kind: str,
                         record_ref: dict, rep_id: str | None, recipients: list[str],
                         payload: dict) -> None:
    """Store one inbox event per channel that should carry this notification, in the
    caller's transaction. ``payload``: ``record_url``, ``owner_name``, ``owner_email``,
    ``sla_left_seconds``, ``stage``, ``monitor_id`` and optionally ``accept_url``,
    ``reassign_url``. Nothing is stored when no channel wants it."""
    channels = _channels_for(session, account_id, kind, rep_id)
    if not channels:
        log.debug("notification %s for account %s: no channel takes it", kind, account_id)
        return
    # through JSON once: datetimes and the like become text, as the inbox row stores them
    text = json.dumps({"kind": kind, "record_ref": dict(record_ref), "rep_id": rep_id,
                       "recipients": list(recipients)[:MAX_RECIPIENTS],
                       "payload": dict(payload)}, sort_keys=True, default=str)
    body = json.loads(text)
    digest = hashlib.sha256(text.encode())
    now = datetime.now(UTC)
    rows = [{"id": new_id(), "source": SOURCE, "account_key": account_id,
             "event_key": f"{digest.hexdigest()[:40]}:{channel.id}", "kind": KIND,
             "payload": {**body, "channel_id": channel.id, "enqueued_at": now.isoformat()},
             "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
            for channel in channels]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(InboxEventRow).on_conflict_do_nothing(
        index_elements=["source", "account_key", "event_key"]), rows)


def _channels_for(session: Session, account_id: str, kind: str,
                  rep_id: str | None) -> list[NotificationChannelRow]:
    channels = [c for c in session.scalars(
        select(NotificationChannelRow).where(NotificationChannelRow.account_id == account_id,
                                             NotificationChannelRow.enabled.is_(True))
        .order_by(NotificationChannelRow.created_at))
        if not c.kinds or kind in c.kinds]
    preference = session.get(NotificationPreferenceRow, rep_id) if rep_id else None
    if preference is not None and preference.account_id == account_id:
        if kind in (preference.muted_kinds or []):
            return []
        if preference.channel_ids is not None:
            channels = [c for c in channels if c.id in preference.channel_ids]
    return channels


# --- delivery --------------------------------------------------------------------------

def handle_notifications(container: Any, events: Sequence[InboxEvent]) -> dict[str, str | None]:
    """The inbox handler: deliver each event to its channel."""
    from adapters.notify import senders

    results: dict[str, str | None] = {}
    key = container.config.secret_key
    with container.db.read_session() as session:
        ids = {e.payload.get("channel_id") for e in events}
        channels = {c.id: (c.type, dict(c.settings or {}), c.secret, c.enabled)
                    for c in session.scalars(select(NotificationChannelRow)
                                             .where(NotificationChannelRow.id.in_(ids)))}
    for event in events:
        found = channels.get(event.payload.get("channel_id"))
        if found is None or not found[3]:
            results[event.id] = None  # the channel was removed or disabled: nothing to do
            continue
        kind, settings, sealed, _ = found
        try:
            secret = json.loads(TokenCipher(key or "", PURPOSE).decrypt(sealed))
        except (CredentialError, ValueError):
            results[event.id] = Permanent("the channel's secrets cannot be decrypted; was "
                                          "CONNECTOR_SECRET_KEY changed?")
            continue
        try:
            deliver(container, event, kind, settings, secret)
            results[event.id] = None
        except senders.DeliveryError as exc:
            message = f"{kind} channel {event.payload.get('channel_id')}: {exc}"
            results[event.id] = Permanent(message) if exc.permanent else message
    return results


def deliver(container: Any, event: InboxEvent, kind: str, settings: dict[str, Any],
            secret: dict[str, Any]) -> None:
    from adapters.notify import senders

    note = event.payload
    text = summary(note)
    if kind == "slack_webhook":
        senders.slack_webhook(secret["webhook_url"], text, blocks(note))
    elif kind == "slack_bot":
        senders.slack_bot(secret["bot_token"], settings["channel"], text, blocks(note),
                          base_url=container.extras.get("slack_api_base_url"))
    elif kind == "email":
        to = list(dict.fromkeys([*note.get("recipients", []), *settings.get("to", [])]))
        if not to:
            raise senders.DeliveryError("no recipient for the mail", permanent=True)
        title = TITLES.get(note["kind"], note["kind"])
        senders.email(host=settings["smtp_host"], port=int(settings.get("smtp_port") or 587),
                      sender=settings["from"], to=to, subject=f"{title}: {record_label(note)}",
                      text=plain(note), username=settings.get("username"),
                      password=secret.get("password"),
                      security=settings.get("security", "starttls"))
    elif kind == "webhook":
        created = datetime.fromisoformat(note.get("enqueued_at") or
                                         datetime.now(UTC).isoformat())
        body = {"type": note["kind"], "timestamp": created.isoformat(),
                "data": {"record": note.get("record_ref"), "rep_id": note.get("rep_id"),
                         "recipients": note.get("recipients"), **note.get("payload", {})}}
        senders.webhook(secret["url"], secret["signing_secret"], f"msg_{event.id}",
                        container.extras.get("now", lambda: datetime.now(UTC))(), body)
    else:
        raise senders.DeliveryError(f"unknown channel type {kind!r}", permanent=True)


# --- rendering -------------------------------------------------------------------------

def record_label(note: dict[str, Any]) -> str:
    ref = note.get("record_ref") or {}
    return str(ref.get("name") or ref.get("id") or ref.get("object_id") or "record")


def sla_left(seconds: Any) -> str:
    """"12 min left", "overdue by 1 h 5 min", or "-" when unknown."""
    if seconds is None:
        return "-"
    value = int(seconds)
    minutes = abs(value) // 60
    hours, minutes = divmod(minutes, 60)
    text = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"{text} left" if value >= 0 else f"overdue by {text}"


def summary(note: dict[str, Any]) -> str:
    data = note.get("payload", {})
    return (f"{TITLES.get(note['kind'], note['kind'])}: {record_label(note)}, owner "
            f"{data.get('owner_name') or data.get('owner_email') or '-'}, "
            f"{sla_left(data.get('sla_left_seconds'))}")


def plain(note: dict[str, Any]) -> str:
    data = note.get("payload", {})
    lines = [summary(note), ""]
    for label, key in (("Record", "record_url"), ("Owner", "owner_email"),
                       ("Stage", "stage"), ("Accept", "accept_url"),
                       ("Reassign", "reassign_url")):
        if data.get(key) not in (None, ""):
            lines.append(f"{label}: {data[key]}")
    return "\n".join(lines) + "\n"


def _mrkdwn(value: Any) -> str:
    """Slack's mrkdwn escapes: &, < and > (Slack's "Formatting text" page)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blocks(note: dict[str, Any]) -> list[dict[str, Any]]:
    """The Block Kit message: title and record link, owner, SLA left, stage, and link
    buttons to accept or reassign."""
    data = note.get("payload", {})
    label = _mrkdwn(record_label(note))
    url = data.get("record_url")
    record = f"<{url}|{label}>" if url else label
    owner = _mrkdwn(data.get("owner_name") or "-")
    if data.get("owner_email"):
        owner += f" ({_mrkdwn(data['owner_email'])})"
    out: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            f"*{TITLES.get(note['kind'], _mrkdwn(note['kind']))}*: {record}")}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Owner*\n{owner}"},
            {"type": "mrkdwn", "text": f"*SLA*\n{sla_left(data.get('sla_left_seconds'))}"},
            {"type": "mrkdwn", "text": f"*Stage*\n{_mrkdwn(data.get('stage', '-'))}"},
            {"type": "mrkdwn", "text": f"*Monitor*\n{_mrkdwn(data.get('monitor_id', '-'))}"},
        ]},
    ]
    buttons = [{"type": "button", "text": {"type": "plain_text", "text": text},
                "url": data[key], "action_id": key, **({"style": "primary"}
                                                       if key == "accept_url" else {})}
               for text, key in (("Accept", "accept_url"), ("Reassign", "reassign_url"))
               if data.get(key)]
    if buttons:
        out.append({"type": "actions", "elements": buttons})
    return out


# --- channels and preferences ----------------------------------------------------------

def public(row: NotificationChannelRow) -> dict[str, Any]:
    """A channel as the API shows it: settings, and only the names of its secrets."""
    secret_fields = sorted(FIELDS.get(row.type, ({}, {}))[1])
    return {"id": row.id, "name": row.name, "type": row.type,
            "settings": dict(row.settings or {}), "secrets_set": secret_fields,
            "kinds": list(row.kinds or []), "enabled": row.enabled,
            "created_at": row.created_at}


def validate(body: Any) -> tuple[str, str, dict[str, Any], dict[str, Any], list[str], bool]:
    """A channel from a request body; ``V1Error`` 422 naming every bad field."""
    if not isinstance(body, dict):
        raise V1Error(422, "The request was invalid.", {"body": "must be a JSON object"})
    bad: dict[str, str] = {}
    kind = body.get("type")
    name = body.get("name")
    if kind not in TYPES:
        bad["type"] = f"must be one of {', '.join(TYPES)}"
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        bad["name"] = "must be a string of 1 to 200 characters"
    kinds = body.get("kinds", [])
    if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
        bad["kinds"] = f"must be a list of {', '.join(KINDS)}"
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        bad["enabled"] = "must be true or false"
    settings: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    if kind in FIELDS:
        shown, hidden = FIELDS[kind]
        given_settings = body.get("settings") or {}
        given_secret = body.get("secrets") or {}
        if not isinstance(given_settings, dict):
            bad["settings"] = "must be an object"
            given_settings = {}
        if not isinstance(given_secret, dict):
            bad["secrets"] = "must be an object"
            given_secret = {}
        for where, fields, given, out in (("settings", shown, given_settings, settings),
                                          ("secrets", hidden, given_secret, secret)):
            for field, required in fields.items():
                value = given.get(field)
                if value in (None, ""):
                    if required:
                        bad[f"{where}.{field}"] = "is required"
                    continue
                problem = _check(kind, field, value)
                if problem:
                    bad[f"{where}.{field}"] = problem
                else:
                    out[field] = value
            for field in given:
                if field not in fields:
                    bad[f"{where}.{field}"] = f"unknown field for a {kind} channel"
    if bad:
        raise V1Error(422, "The request was invalid.", bad)
    return kind, name.strip(), settings, secret, list(dict.fromkeys(kinds)), enabled


def _check(kind: str, field: str, value: Any) -> str | None:
    if field == "smtp_port":
        return None if isinstance(value, int) and 1 <= value <= 65535 else \
            "must be a port number"
    if field == "to":
        if not isinstance(value, list) or len(value) > MAX_RECIPIENTS or \
                not all(isinstance(v, str) and _EMAIL.match(v) for v in value):
            return f"must be a list of at most {MAX_RECIPIENTS} email addresses"
        return None
    if not isinstance(value, str) or len(value) > 2000:
        return "must be a string of at most 2000 characters"
    if field == "from" and not _EMAIL.match(value):
        return "must be an email address"
    if field == "security" and value not in ("starttls", "ssl", "none"):
        return "must be starttls, ssl or none"
    if field in ("webhook_url", "url") and not value.startswith(("https://", "http://")):
        return "must be an http(s) URL"
    if field == "signing_secret":
        from standardwebhooks.webhooks import Webhook

        try:
            Webhook(value)
        except Exception:  # noqa: BLE001 - any decoding failure is the same answer
            return "must be a whsec_ secret (base64 after the prefix)"
    return None


def create_channel(db: Database, secret_key: str | None, account_id: str,
                   body: Any) -> dict[str, Any]:
    kind, name, settings, secret, kinds, enabled = validate(body)
    sealed = cipher(secret_key).encrypt(json.dumps(secret))
    row = NotificationChannelRow(id=new_id(), account_id=account_id, name=name, type=kind,
                                 settings=settings, secret=sealed, kinds=kinds,
                                 enabled=enabled, created_at=datetime.now(UTC))
    with db.session() as session:
        session.add(row)
        session.flush()
        return public(row)


def list_channels(db: Database, account_id: str) -> list[dict[str, Any]]:
    with db.read_session() as session:
        return [public(r) for r in session.scalars(
            select(NotificationChannelRow).where(NotificationChannelRow.account_id ==
                                                 account_id)
            .order_by(NotificationChannelRow.created_at))]


def delete_channel(db: Database, account_id: str, channel_id: str) -> None:
    with db.session() as session:
        row = session.get(NotificationChannelRow, channel_id)
        if row is None or row.account_id != account_id:
            raise V1Error(404, "The requested resource does not exist.")
        session.delete(row)


def preferences(db: Database, account_id: str, rep_id: str) -> dict[str, Any] | None:
    """A rep's stored choice (every channel, nothing muted when none is stored), or None
    when the rep is not the account's."""
    with detached(db) as session:
        rep = session.get(RepRow, rep_id)
        if rep is None or rep.account_id != account_id:
            return None
        row = session.get(NotificationPreferenceRow, rep_id)
        return {"rep_id": rep_id, "channel_ids": row.channel_ids if row else None,
                "muted_kinds": list(row.muted_kinds or []) if row else []}


def set_preferences(db: Database, account_id: str, rep_id: str, body: Any) -> dict[str, Any]:
    """A rep's channels (``null``: all) and muted kinds; 422 naming bad fields."""
    bad: dict[str, str] = {}
    if not isinstance(body, dict):
        raise V1Error(422, "The request was invalid.", {"body": "must be a JSON object"})
    channel_ids = body.get("channel_ids")
    muted = body.get("muted_kinds", [])
    if not isinstance(muted, list) or any(k not in KINDS for k in muted):
        bad["muted_kinds"] = f"must be a list of {', '.join(KINDS)}"
    with db.session() as session:
        rep = session.get(RepRow, rep_id)
        if rep is None or rep.account_id != account_id:
            raise V1Error(404, "The requested resource does not exist.")
        if channel_ids is not None:
            known = set(session.scalars(select(NotificationChannelRow.id).where(
                NotificationChannelRow.account_id == account_id)))
            if not isinstance(channel_ids, list) or len(channel_ids) > 100 or \
                    any(c not in known for c in channel_ids):
                bad["channel_ids"] = "must be null or a list of this account's channel ids"
        if bad:
            raise V1Error(422, "The request was invalid.", bad)
        row = session.get(NotificationPreferenceRow, rep_id) or NotificationPreferenceRow(
            rep_id=rep_id, account_id=account_id)
        row.channel_ids = None if channel_ids is None else list(dict.fromkeys(channel_ids))
        row.muted_kinds = list(dict.fromkeys(muted))
        row.updated_at = datetime.now(UTC)
        session.add(row)
        return {"rep_id": rep_id, "channel_ids": row.channel_ids,
                "muted_kinds": row.muted_kinds}
