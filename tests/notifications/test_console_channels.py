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
