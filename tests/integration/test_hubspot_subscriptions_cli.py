"""``connector hubspot subscriptions sync`` against the fake HubSpot's webhooks API."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from adapters.hubspot.fake_server import FakeHubSpot
from connector.cli import main

from .helpers import make_router, make_user


@pytest.fixture
def fake():
    with FakeHubSpot() as hs:
        yield hs


@pytest.fixture
def env(monkeypatch, config, fake):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("HUBSPOT_APP_ID", str(fake.app_id))
    monkeypatch.setenv("HUBSPOT_DEVELOPER_API_KEY", fake.developer_api_key)
    monkeypatch.setenv("HUBSPOT_API_BASE", fake.url)


def _active(fake):
    return {(s["eventType"], s.get("propertyName")) for s in fake.subscriptions.values()
            if s["active"]}


def test_sync_shows_the_difference_then_applies_it(env, fake, client, headers):
    user = make_user(client, headers, "ana@example.com")
    make_router(client, headers, [user])
    make_router(client, headers, [user], object_type="ticket", start_on=["change"],
                watch_properties=["hs_ticket_priority"])
    make_router(client, headers, [user], object_type="deal", published=False)
    stale = fake.add_subscription("contact.propertyChange", "email")
    runner = CliRunner()

    dry = runner.invoke(main, ["hubspot", "subscriptions", "sync", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "+ create     contact.creation" in dry.output
    assert "+ create     ticket.propertyChange [hs_ticket_priority]" in dry.output
    assert f"- deactivate contact.propertyChange [email] (id {stale['id']})" in dry.output
    assert "deal." not in dry.output and "ticket.creation" not in dry.output
    assert "dry run: nothing changed" in dry.output
    assert _active(fake) == {("contact.propertyChange", "email")}

    refused = runner.invoke(main, ["hubspot", "subscriptions", "sync"], input="n\n")
    assert "nothing changed" in refused.output and len(fake.subscriptions) == 1

    applied = runner.invoke(main, ["hubspot", "subscriptions", "sync", "--yes"])
    assert applied.exit_code == 0, applied.output
    assert _active(fake) == {
        ("contact.creation", None), ("contact.deletion", None), ("contact.restore", None),
        ("contact.merge", None), ("contact.privacyDeletion", None),
        ("ticket.propertyChange", "hs_ticket_priority"), ("ticket.deletion", None),
        ("ticket.restore", None), ("ticket.merge", None)}
    again = runner.invoke(main, ["hubspot", "subscriptions", "sync", "--yes"])
    assert "subscriptions are up to date" in again.output


def test_sync_names_missing_configuration(monkeypatch, config):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.delenv("HUBSPOT_APP_ID", raising=False)
    result = CliRunner().invoke(main, ["hubspot", "subscriptions", "sync"])
    assert result.exit_code != 0 and "HUBSPOT_APP_ID" in result.output
