"""Delivery of one rendered notification to one channel.

Each sender raises :class:`DeliveryError` with a message that names the channel type and
the failure but never the URL, token or password (inbox errors are stored and logged).
slack-sdk logs each request's URL at DEBUG, and an incoming-webhook URL is itself the
secret, so its clients get a logger that drops everything.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from standardwebhooks.webhooks import Webhook

TIMEOUT = 10

_silent = logging.getLogger("connector.notify.slack_sdk")
_silent.addHandler(logging.NullHandler())
_silent.propagate = False
_silent.setLevel(logging.CRITICAL + 1)

#: Slack's answers that waiting cannot fix (a revoked webhook or token, a missing channel)
SLACK_PERMANENT = {"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                   "channel_not_found", "not_in_channel", "is_archived", "no_service",
                   "invalid_token", "channel_is_archived", "no_team", "action_prohibited",
                   "invalid_blocks", "invalid_payload"}


@dataclass
class DeliveryError(Exception):
    message: str
    permanent: bool = False

    def __str__(self) -> str:
        return self.message


def slack_webhook(url: str, text: str, blocks: list[dict[str, Any]]) -> None:
    """Post to a Slack incoming webhook (``WebhookClient.send``)."""
    try:
        response = WebhookClient(url, timeout=TIMEOUT, logger=_silent).send(text=text,
                                                                             blocks=blocks)
    except OSError as exc:
        raise DeliveryError(f"Slack webhook unreachable ({type(exc).__name__})") from None
    if response.status_code != 200:
        body = (response.body or "")[:100]
        permanent = 400 <= response.status_code < 500 and response.status_code != 429
        raise DeliveryError(f"Slack webhook answered {response.status_code} {body}",
                            permanent=permanent)


def slack_bot(token: str, channel: str, text: str, blocks: list[dict[str, Any]], *,
              base_url: str | None = None) -> None:
    """``chat.postMessage`` with a bot token; ``base_url`` only for a local test server."""
    kwargs: dict[str, Any] = {"token": token, "timeout": TIMEOUT, "logger": _silent}
    if base_url:
        kwargs["base_url"] = base_url
    try:
        WebClient(**kwargs).chat_postMessage(channel=channel, text=text, blocks=blocks)
    except SlackApiError as exc:
        error = str((exc.response.data or {}).get("error", "")) if exc.response else ""
        raise DeliveryError(f"Slack chat.postMessage failed: {error or 'error'}",
                            permanent=error in SLACK_PERMANENT) from None
    except OSError as exc:
        raise DeliveryError(f"Slack API unreachable ({type(exc).__name__})") from None


def email(*, host: str, port: int, sender: str, to: list[str], subject: str, text: str,
          username: str | None = None, password: str | None = None,
          security: str = "starttls") -> None:
    """Send a plain-text mail over SMTP; ``security`` is ``starttls``, ``ssl`` or ``none``."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(to), subject
    message.set_content(text)
    context = ssl.create_default_context()
    try:
        if security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=context)
            if username:
                smtp.login(username, password or "")
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login refused ({exc.smtp_code})", permanent=True) from None
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryError("SMTP server refused every recipient", permanent=True) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP error {exc.smtp_code}",
                            permanent=500 <= exc.smtp_code < 600) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP server unreachable ({type(exc).__name__})") from None


def signed_headers(secret: str, message_id: str, when: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers (``standardwebhooks``, the spec's reference library)."""
    signature = Webhook(secret).sign(msg_id=message_id, timestamp=when, data=body)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signature}


def webhook(url: str, secret: str, message_id: str, when: datetime,
            body: dict[str, Any]) -> None:
    """POST a signed JSON body. ``message_id`` is the same on every retry, so a receiver
    can drop duplicates (the spec's idempotency key). urllib instead of requests: urllib3
    logs request paths at DEBUG, and a webhook URL's path may hold a token."""
    if not url.lower().startswith(("https://", "http://")):
        raise DeliveryError("webhook URL must be http(s)", permanent=True)
    data = json.dumps(body, separators=(",", ":"), sort_keys=True)
    headers = {"Content-Type": "application/json",
               **signed_headers(secret, message_id, when, data)}
    request = urllib.request.Request(url, data=data.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"webhook unreachable ({type(exc).__name__})") from None
    if not 200 <= status < 300:
        # the spec: 410 Gone means the receiver wants no more deliveries
        raise DeliveryError(f"webhook answered {status}", permanent=status == 410)
