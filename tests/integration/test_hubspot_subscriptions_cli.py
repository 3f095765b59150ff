"""``connector hubspot subscriptions sync`` against the fake HubSpot's webhooks API, and
``connector hubspot project DIR``: the developer-platform project an admin uploads with
``hs project upload``, with exactly the subscriptions ``subscriptions sync`` would create."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from adapters.hubspot.fake_server import FakeHubSpot
from connector.cli import main

from .helpers import make_router, make_user

PUBLIC = "https://connector.example.com"


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
    monkeypatch.delenv("CONNECTOR_PUBLIC_URL", raising=False)


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


def _read(directory, relative):
    return json.loads((directory / relative).read_text(encoding="utf-8"))


def test_the_project_holds_the_app_the_subscriptions_sync_computes_and_the_action(
        env, fake, client, headers, tmp_path):
    user = make_user(client, headers, "ana@example.com")
    make_router(client, headers, [user])
    make_router(client, headers, [user], object_type="ticket", start_on=["change"],
                watch_properties=["hs_ticket_priority"])
    make_router(client, headers, [user], object_type="deal", published=False)

    result = CliRunner().invoke(main, ["hubspot", "project", str(tmp_path / "app"),
                                       "--public-url", PUBLIC + "/"])
    assert result.exit_code == 0, result.output
    assert "hs project upload" in result.output
    project = tmp_path / "app"
    assert _read(project, "hsproject.json") == {
        "name": "lead-routing-connector", "srcDir": "src", "platformVersion": "2026.09"}

    app = _read(project, "src/app/app-hsmeta.json")
    assert app["type"] == "app" and app["config"]["distribution"] == "private"
    auth = app["config"]["auth"]
    assert auth["type"] == "oauth"
    assert auth["redirectUrls"] == [PUBLIC + "/oauth/hubspot/callback"]
    assert {"oauth", "automation", "crm.objects.owners.read", "crm.objects.contacts.read",
            "crm.objects.contacts.write", "tickets"} <= set(auth["requiredScopes"])

    hooks = _read(project, "src/app/webhooks/webhooks-hsmeta.json")
    assert hooks["type"] == "webhooks"
    assert hooks["config"]["settings"]["targetUrl"] == PUBLIC + "/webhooks/hubspot"
    declared = hooks["config"]["subscriptions"]
    assert declared["hubEvents"] == [{"subscriptionType": "contact.privacyDeletion",
                                      "active": True}]
    in_project = {(s["subscriptionType"], s.get("propertyName"))
                  for s in declared["legacyCrmObjects"] + declared["hubEvents"]}

    synced = CliRunner().invoke(main, ["hubspot", "subscriptions", "sync", "--yes"])
    assert synced.exit_code == 0, synced.output
    assert in_project == {(s["eventType"], s.get("propertyName"))
                          for s in fake.subscriptions.values()}
    assert ("ticket.propertyChange", "hs_ticket_priority") in in_project
    assert not any(event.startswith("deal.") for event, _ in in_project)

    action = _read(project, "src/app/workflow-actions/route-with-connector-hsmeta.json")
    config = action["config"]
    assert action["type"] == "workflow-action"
    assert config["actionUrl"] == PUBLIC + "/webhooks/hubspot/workflow-action"
    assert [f["typeDefinition"]["name"] for f in config["inputFields"]] == ["router_id"]
    assert [f["typeDefinition"]["name"] for f in config["outputFields"]] == [
        "owner_id", "owner_email", "outcome_message"]
    assert config["objectTypes"] == ["CONTACT", "TICKET"]
    assert config["labels"]["en"]["actionName"] == "Route with connector"


def test_a_static_app_has_no_redirect_url(env, tmp_path, monkeypatch):
    monkeypatch.setenv("CONNECTOR_PUBLIC_URL", PUBLIC)
    result = CliRunner().invoke(main, ["hubspot", "project", str(tmp_path), "--auth",
                                       "static"])
    assert result.exit_code == 0, result.output
    auth = _read(tmp_path, "src/app/app-hsmeta.json")["config"]["auth"]
    assert auth["type"] == "static" and "redirectUrls" not in auth
    action = _read(tmp_path, "src/app/workflow-actions/route-with-connector-hsmeta.json")
    assert action["config"]["objectTypes"] == ["COMPANY", "CONTACT", "DEAL", "TICKET"]


@pytest.mark.parametrize(("args", "message"), [
    ([], "CONNECTOR_PUBLIC_URL is not set"),
    (["--public-url", "http://connector.example.com"], "must be an https:// address"),
    (["--public-url", "https://connector.example.com/?x=1"], "must be an https:// address")])
def test_the_public_url_is_required_and_https(env, tmp_path, args, message):
    result = CliRunner().invoke(main, ["hubspot", "project", str(tmp_path), *args])
    assert result.exit_code != 0 and message in result.output
    assert not any(tmp_path.iterdir())
