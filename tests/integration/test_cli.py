"""The command line: migrate, accounts, tokens that the API accepts, events."""

from __future__ import annotations

import jwt
import pytest
from click.testing import CliRunner

from connector.cli import main
from connector.store.db import Database
from tests.conftest import JWT_SECRET
from tests.support.migrations import READY_LINE


@pytest.fixture
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CONNECTOR_JWT_SECRET", JWT_SECRET)
    return url


def test_migrate_creates_the_schema(env):
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert READY_LINE in result.output
    assert "Running upgrade" not in result.output
    assert not Database(env).is_empty()


def test_account_and_token_work_against_the_api(env):
    runner = CliRunner()
    created = runner.invoke(main, ["accounts", "create", "--name", "Acme"])
    assert created.exit_code == 0, created.output
    account_id = created.stdout.strip()
    issued = runner.invoke(main, ["token", "--account", account_id])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert jwt.decode(token, JWT_SECRET, algorithms=["HS256"])["account_id"] == account_id

    from connector.web import create_app

    app = create_app({"database_url": env, "executor": "inline", "jwt_secret": JWT_SECRET})
    reply = app.test_client().get("/account", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200
    assert reply.get_json()["name"] == "Acme"
    app.config["CONTAINER"].close()


def test_token_without_secret_names_the_variable(env, monkeypatch):
    monkeypatch.delenv("CONNECTOR_JWT_SECRET")
    result = CliRunner().invoke(main, ["token", "--account", "x"])
    assert result.exit_code != 0
    assert "CONNECTOR_JWT_SECRET" in result.output


def test_token_needs_an_account_or_admin(env):
    result = CliRunner().invoke(main, ["token"])
    assert result.exit_code == 2
    assert "--account" in result.output


def test_events_replay_needs_ids_or_all_failed(env):
    result = CliRunner().invoke(main, ["events", "replay"])
    assert result.exit_code == 2
    assert "--all-failed" in result.output


def test_events_list_and_replay_failed(env):
    from connector.jobs import inbox

    db = Database(env)
    db.migrate()
    inbox.store_events(db, [inbox.NewEvent("hubspot", "1", "k1", "hubspot", {"a": 1})])
    (event,) = inbox.claim(db)
    assert inbox.fail(db, event.id, "HubSpot said 500", retryable=False) == "dead"
    runner = CliRunner()
    listed = runner.invoke(main, ["events", "list", "--failed"])
    assert listed.exit_code == 0, listed.output
    assert event.id in listed.output and "HubSpot said 500" in listed.output
    replayed = runner.invoke(main, ["events", "replay", "--all-failed"])
    assert replayed.exit_code == 0
    assert "1 event(s) queued again" in replayed.output
    assert inbox.counts(db) == {"pending": 1}
