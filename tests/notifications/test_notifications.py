"""Notifications: stored in the inbox per channel, delivered to Slack (incoming webhook
and chat.postMessage), SMTP and signed webhooks on local servers, retried, dead-lettered
and replayed; secrets never in the database in clear, in logs or in inbox errors."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email import message_from_bytes

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from connector.jobs import inbox
from connector.jobs.executors import InlineExecutor, default_handlers
from connector.service import notifications as service
from connector.store.models import InboxEventRow, NotificationChannelRow, RepRow

from .catchers import HttpCatcher, MailCatcher

SLACK_PATH = "/services/T000/B000/XXXXsecretXXXX"
BOT_TOKEN = "xoxb-111-222-bottokensecret"
SMTP_PASSWORD = "smtp-pass-secret-42"
SIGNING = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HOOK_PATH = "/hooks/in?token=querysecret"
PAYLOAD = {"record_url": "https://app.hubspot.com/contacts/1/record/0-1/51",
           "owner_name": "Alex Doe", "owner_email": "alex@company.com",
           "sla_left_seconds": -150, "stage": 1, "monitor_id": "mon_1",
           "accept_url": "https://connector.example.com/sla/accept/abc",
           "reassign_url": "https://connector.example.com/sla/reassign/abc"}


@pytest.fixture
def http():
    catcher = HttpCatcher().start()
    yield catcher
    catcher.stop()


@pytest.fixture
def mail():
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()


@pytest.fixture
def rep_id(container, account_id) -> str:
    with container.db.session() as session:
        row = RepRow(account_id=account_id, email="alex@company.com", name="Alex Doe")
        session.add(row)
        session.flush()
        return row.id


def channel(container, account_id, body) -> str:
    return service.create_channel(container.db, container.config.secret_key, account_id,
                                  body)["id"]


def notify(container, account_id, rep_id=None, kind="sla.breach", payload=PAYLOAD,
           recipients=("manager@company.com",)) -> None:
    with container.db.session() as session:
        service.enqueue_notification(session, account_id=account_id, kind=kind,
                                     record_ref={"type": "contact", "id": "51",
                                                 "name": "Jo Lead"},
                                     rep_id=rep_id, recipients=list(recipients),
                                     payload=dict(payload))


def drain(container) -> int:
    return InlineExecutor(container, default_handlers(container)).drain()


def statuses(container) -> list[str]:
    with container.db.session() as session:
        return sorted(session.scalars(select(InboxEventRow.status)
                                      .where(InboxEventRow.kind == service.KIND)))


def all_channels(container, account_id, http, mail) -> dict[str, str]:
    container.extras["slack_api_base_url"] = http.url + "/api/"
    return {
        "slack": channel(container, account_id, {
            "name": "Sales alerts", "type": "slack_webhook",
            "secrets": {"webhook_url": http.url + SLACK_PATH}}),
        "bot": channel(container, account_id, {
            "name": "Bot", "type": "slack_bot", "settings": {"channel": "C0SALES"},
            "secrets": {"bot_token": BOT_TOKEN}}),
        "email": channel(container, account_id, {
            "name": "Mail", "type": "email", "settings": {
                "smtp_host": "127.0.0.1", "smtp_port": mail.port, "from": "sla@acme.test",
                "security": "none", "to": ["desk@company.com"]},
            "secrets": {"password": SMTP_PASSWORD}}),
        "hook": channel(container, account_id, {
            "name": "Hook", "type": "webhook",
            "secrets": {"url": http.url + HOOK_PATH, "signing_secret": SIGNING}}),
    }


def test_every_channel_receives_the_message(container, account_id, rep_id, http, mail):
    all_channels(container, account_id, http, mail)
    notify(container, account_id, rep_id)
    assert statuses(container) == ["pending"] * 4  # one inbox event per channel
    assert drain(container) == 4
    assert statuses(container) == ["done"] * 4

    by_path = {r.path.split("?")[0]: r for r in http.requests}
    slack = by_path[SLACK_PATH].json()
    text = str(slack["blocks"])
    assert "<https://app.hubspot.com/contacts/1/record/0-1/51|Jo Lead>" in text
    assert "Alex Doe (alex@company.com)" in text and "overdue by 2 min" in text
    buttons = {b["text"]["text"]: b["url"] for b in slack["blocks"][-1]["elements"]}
    assert buttons == {"Accept": PAYLOAD["accept_url"], "Reassign": PAYLOAD["reassign_url"]}

    bot = by_path["/api/chat.postMessage"]
    assert bot.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert bot.json()["channel"] == "C0SALES" and bot.json()["blocks"] == slack["blocks"]

    hook = by_path["/hooks/in"]
    verified = Webhook(SIGNING).verify(hook.body, hook.headers)
    assert verified["type"] == "sla.breach" and verified["data"]["stage"] == 1
    assert hook.headers["webhook-id"].startswith("msg_")

    (envelope,) = mail.messages
    assert sorted(envelope.rcpt_tos) == ["desk@company.com", "manager@company.com"]
    message = message_from_bytes(envelope.original_content)
    assert message["Subject"] == "SLA breached: Jo Lead"
    assert PAYLOAD["reassign_url"] in message.get_payload()


def test_the_same_notification_is_stored_once(container, account_id, http):
    channel(container, account_id, {"name": "Hook", "type": "webhook", "secrets": {
        "url": http.url + "/h", "signing_secret": SIGNING}})
    due = {**PAYLOAD, "deadline_at": datetime(2026, 12, 1, 9, 15, tzinfo=UTC)}
    notify(container, account_id, payload=due)
    notify(container, account_id, payload=due)
    assert statuses(container) == ["pending"]
    drain(container)
    (sent,) = http.requests
    assert sent.json()["data"]["deadline_at"] == "2026-12-01 09:15:00+00:00"


def test_a_failing_channel_retries_alone_then_replays(container, account_id, http):
    channel(container, account_id, {"name": "Hook", "type": "webhook", "secrets": {
        "url": http.url + "/down", "signing_secret": SIGNING}})
    channel(container, account_id, {"name": "Other", "type": "webhook", "secrets": {
        "url": http.url + "/up", "signing_secret": SIGNING}})
    http.answers["/down"] = (503, "busy")
    notify(container, account_id)
    drain(container)
    assert statuses(container) == ["done", "failed"]
    assert [r.path for r in http.requests].count("/up") == 1
    http.answers.pop("/down")
    assert inbox.replay(container.db, all_failed=True) == 1
    drain(container)
    assert statuses(container) == ["done", "done"]
    assert [r.path for r in http.requests].count("/up") == 1  # not sent twice
    first, again = [r for r in http.requests if r.path == "/down"]
    assert first.headers["webhook-id"] == again.headers["webhook-id"]


@pytest.mark.parametrize("answer", [(410, "gone"), (200, '{"ok": false, '
                                                       '"error": "channel_not_found"}')])
def test_what_waiting_cannot_fix_is_a_dead_letter_at_once(container, account_id, http,
                                                          answer):
    container.extras["slack_api_base_url"] = http.url + "/api/"
    channel(container, account_id, {"name": "Hook", "type": "webhook", "secrets": {
        "url": http.url + "/hook", "signing_secret": SIGNING}} if answer[0] == 410 else {
        "name": "Bot", "type": "slack_bot", "settings": {"channel": "C404"},
        "secrets": {"bot_token": BOT_TOKEN}})
    http.answers["/hook" if answer[0] == 410 else "/api/chat.postMessage"] = answer
    notify(container, account_id)
    drain(container)
    assert statuses(container) == ["dead"]


def test_rep_preferences_choose_channels_and_mute_kinds(container, account_id, rep_id, http):
    first = channel(container, account_id, {"name": "A", "type": "webhook", "secrets": {
        "url": http.url + "/a", "signing_secret": SIGNING}})
    channel(container, account_id, {"name": "B", "type": "webhook", "kinds": ["sla.breach"],
                                    "secrets": {"url": http.url + "/b",
                                                "signing_secret": SIGNING}})
    service.set_preferences(container.db, account_id, rep_id,
                            {"channel_ids": [first], "muted_kinds": ["sla.reminder"]})
    notify(container, account_id, rep_id, kind="sla.reminder")
    assert statuses(container) == []
    notify(container, account_id, rep_id, kind="sla.reassigned")
    notify(container, account_id, None, kind="sla.reminder")  # no rep: only "A" takes it
    drain(container)
    assert sorted(r.path for r in http.requests) == ["/a", "/a"]


def test_secrets_are_encrypted_and_never_logged(container, account_id, rep_id, http, mail,
                                                caplog):
    caplog.set_level(logging.DEBUG)
    all_channels(container, account_id, http, mail)
    http.answers[SLACK_PATH] = (500, "oops")
    http.answers["/hooks/in?token=querysecret"] = (503, "busy")
    notify(container, account_id, rep_id)
    drain(container)
    with container.db.session() as session:
        stored = " ".join(f"{c.settings} {c.secret}" for c in
                          session.scalars(select(NotificationChannelRow)))
        errors = " ".join(e or "" for e in session.scalars(select(InboxEventRow.last_error)))
    assert "failed" in statuses(container)
    for secret in ("XXXXsecretXXXX", BOT_TOKEN, SMTP_PASSWORD, SIGNING, "querysecret"):
        assert secret not in caplog.text, secret
        assert secret not in stored, secret
        assert secret not in errors, secret
    assert "answered 500" in errors and "answered 503" in errors


def test_channels_api_hides_secrets_and_names_bad_fields(client, v1, http):
    created = client.post("/v1/notification-channels", headers=v1, json={
        "name": "Hook", "type": "webhook", "kinds": ["sla.breach"],
        "secrets": {"url": http.url + "/h", "signing_secret": SIGNING}})
    assert created.status_code == 201
    listed = client.get("/v1/notification-channels", headers=v1).json["data"]
    assert listed == [created.json]
    assert created.json["secrets_set"] == ["signing_secret", "url"]
    assert SIGNING not in created.get_data(as_text=True)
    bad = client.post("/v1/notification-channels", headers=v1, json={
        "name": "", "type": "email", "kinds": ["nope"], "settings": {
            "smtp_host": "mail", "from": "not-an-address", "smtp_port": 70000, "cc": "x"}})
    assert bad.status_code == 422
    assert bad.json["error"]["fields"] == {
        "name": "must be a string of 1 to 200 characters",
        "kinds": "must be a list of sla.reminder, sla.breach, sla.reassigned",
        "settings.smtp_port": "must be a port number",
        "settings.from": "must be an email address",
        "settings.cc": "unknown field for a email channel"}
    wrong = client.post("/v1/notification-channels", headers=v1, json={
        "name": "H", "type": "webhook", "secrets": {"url": "file:///etc/passwd",
                                                     "signing_secret": "plain"}})
    assert wrong.json["error"]["fields"] == {
        "secrets.url": "must be an http(s) URL",
        "secrets.signing_secret": "must be a whsec_ secret (base64 after the prefix)"}
    assert client.delete(f"/v1/notification-channels/{created.json['id']}",
                         headers=v1).status_code == 204
    assert client.get("/v1/notification-channels", headers=v1).json["data"] == []


def test_without_a_secret_key_channels_cannot_be_stored(container, account_id):
    from connector.service.v1_errors import V1Error

    with pytest.raises(V1Error) as caught:
        service.create_channel(container.db, None, account_id, {
            "name": "S", "type": "slack_webhook",
            "secrets": {"webhook_url": "https://hooks.slack.com/services/T/B/X"}})
    assert caught.value.status == 409 and "CONNECTOR_SECRET_KEY" in caught.value.message


@pytest.mark.parametrize("password, status", [(SMTP_PASSWORD, "done"), ("wrong", "dead")])
def test_smtp_login_with_the_stored_password(container, account_id, password, status,
                                             caplog):
    caplog.set_level(logging.DEBUG)
    server = MailCatcher(login=("sla-bot", SMTP_PASSWORD)).start()
    try:
        channel(container, account_id, {
            "name": "Mail", "type": "email", "settings": {
                "smtp_host": "127.0.0.1", "smtp_port": server.port, "from": "sla@acme.test",
                "security": "none", "username": "sla-bot"},
            "secrets": {"password": password}})
        notify(container, account_id)
        drain(container)
        assert statuses(container) == [status]
        assert len(server.messages) == (1 if status == "done" else 0)
        assert password not in caplog.text
    finally:
        server.stop()
