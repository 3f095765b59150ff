"""Organization Settings → Notifications in the console: add a channel (its secret never
shown again), errors name the field like the API, remove it."""

from __future__ import annotations

from connector.store.models import NotificationChannelRow
from tests.admin.seed import csrf, sign_in
from tests.analytics.seed import seed

SECRET = "https://hooks.slack.com/services/T1/B1/consolesecret"


def test_add_list_and_remove_a_channel(container, client, make_account):
    world = seed(container, client, make_account, clocks=False)
    sign_in(client, world.email)
    token = csrf(client, "/admin/settings/notifications")
    refused = client.post("/admin/settings/notifications", data={
        "csrf_token": token, "name": "Sales", "type": "email", "email.smtp_host": "mail",
        "email.from": "nobody"})
    assert refused.status_code == 400
    assert "settings.from: must be an email address" in refused.get_data(as_text=True)

    added = client.post("/admin/settings/notifications", data={
        "csrf_token": token, "name": "Sales", "type": "slack_webhook",
        "slack_webhook.webhook_url": SECRET, "email.smtp_host": "ignored",
        "kinds": ["sla.breach"]}, follow_redirects=True)
    html = added.get_data(as_text=True)
    assert "Added the channel Sales." in html and "webhook_url" in html
    assert "consolesecret" not in html
    with container.db.read_session() as session:
        (row,) = session.query(NotificationChannelRow).all()
        assert (row.type, row.kinds, row.settings) == ("slack_webhook", ["sla.breach"], {})
        assert "consolesecret" not in row.secret
        channel_id = row.id
    removed = client.post(f"/admin/settings/notifications/{channel_id}/delete",
                          data={"csrf_token": token}, follow_redirects=True)
    assert "No channels yet" in removed.get_data(as_text=True)


def test_a_reps_preferences_are_edited_in_the_console(container, client, make_account):
    from connector.service import notifications

    world = seed(container, client, make_account, clocks=False)
    jane = world.reps["jane"]
    sign_in(client, world.email)
    token = csrf(client, "/admin/settings/notifications")
    client.post("/admin/settings/notifications", data={
        "csrf_token": token, "name": "Sales", "type": "slack_webhook",
        "slack_webhook.webhook_url": SECRET})
    with container.db.read_session() as session:
        (channel,) = session.query(NotificationChannelRow).all()
        channel_id = channel.id
    listing = client.get("/admin/settings/notifications").get_data(as_text=True)
    page = f"/admin/settings/notifications/reps/{jane}"
    assert page in listing
    shown = client.get(page).get_data(as_text=True)
    assert "every channel of the account" in shown and "Sales (slack_webhook)" in shown

    saved = client.post(page, data={"csrf_token": token, "channel_ids": [channel_id],
                                    "muted_kinds": ["sla.reminder"]}, follow_redirects=True)
    assert "Saved the notification preferences of jane@acme.example." in \
        saved.get_data(as_text=True)
    assert notifications.preferences(container.db, world.account_id, jane) == {
        "rep_id": jane, "channel_ids": [channel_id], "muted_kinds": ["sla.reminder"]}

    bad = client.post(page, data={"csrf_token": token, "channel_ids": ["nope"],
                                  "muted_kinds": ["sla.nothing"]})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "channel_ids: must be null or a list" in html and "muted_kinds: must be" in html
    assert client.post(page, data={"channel_ids": [channel_id]}).status_code == 400  # CSRF
    client.post(page, data={"csrf_token": token, "all_channels": "1"})
    assert notifications.preferences(container.db, world.account_id, jane) == {
        "rep_id": jane, "channel_ids": None, "muted_kinds": []}
    assert client.get("/admin/settings/notifications/reps/nope").status_code == 404
