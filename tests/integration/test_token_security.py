"""CONNECTOR_JWT_SECRET strength, token expiry and revocation without rotating the
secret."""

from __future__ import annotations

import jwt
import pytest
from click.testing import CliRunner

from connector.cli import main
from connector.config import ConfigError
from connector.store.revocations import RevokedApiTokens
from connector.web import create_app
from tests.conftest import JWT_SECRET
from tests.integration import test_cli

env = test_cli.env  # the commands' environment: their own database and the tests' secret


def test_a_short_jwt_secret_refuses_to_start_and_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError) as refused:
        create_app({"database_url": f"sqlite:///{tmp_path / 'x.db'}", "executor": "inline",
                    "jwt_secret": "s" * 31})
    assert "CONNECTOR_JWT_SECRET is 31 bytes long" in str(refused.value)
    assert "at least 32" in str(refused.value)
    assert "secrets.token_hex(32)" in str(refused.value)


def test_serve_and_token_refuse_a_short_secret(env, monkeypatch):
    monkeypatch.setenv("CONNECTOR_JWT_SECRET", "too-short")
    for args in (["serve", "--port", "0"], ["token", "--account", "a"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "at least 32" in result.output


def test_secret_length_counts_bytes_not_characters(tmp_path):
    with pytest.raises(ConfigError, match="is 30 bytes long"):
        create_app({"database_url": f"sqlite:///{tmp_path / 'x.db'}", "executor": "inline",
                    "jwt_secret": "é" * 15})


def _issue(runner: CliRunner, *args: str) -> tuple[str, dict]:
    result = runner.invoke(main, ["token", *args])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    return token, jwt.decode(token, JWT_SECRET, algorithms=["HS256"])


def test_cli_tokens_expire_after_a_day_unless_ttl_says_otherwise(env):
    runner = CliRunner()
    _, claims = _issue(runner, "--account", "a")
    assert claims["exp"] - claims["iat"] == 24 * 3600
    _, short = _issue(runner, "--account", "a", "--ttl", "600")
    assert short["exp"] - short["iat"] == 600
    assert claims["jti"] != short["jti"]
    refused = runner.invoke(main, ["token", "--account", "a", "--ttl", "0"])
    assert refused.exit_code == 2


def test_a_revoked_token_gets_401_and_the_others_keep_working(env):
    runner = CliRunner()
    account = runner.invoke(main, ["accounts", "create", "--name", "Acme"]).stdout.strip()
    stolen, _ = _issue(runner, "--account", account)
    kept, _ = _issue(runner, "--account", account)
    by_id, by_id_claims = _issue(runner, "--account", account)
    app = create_app({"database_url": env, "executor": "inline", "jwt_secret": JWT_SECRET})
    now = [0.0]
    app.extensions["revoked_api_tokens"] = RevokedApiTokens(
        app.config["CONTAINER"].db, max_age=1.0, clock=lambda: now[0])
    client = app.test_client()

    def status(token: str) -> int:
        return client.get("/account", headers={"Authorization": f"Bearer {token}"}).status_code

    assert status(stolen) == 200
    revoked = runner.invoke(main, ["revoke-token", stolen])  # another process
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in revoked.output
    assert runner.invoke(main, ["revoke-token", by_id_claims["jti"]]).exit_code == 0
    now[0] = 0.5
    assert status(stolen) == 200  # this process reads the revocations once a second
    now[0] = 1.0
    answer = client.get("/account", headers={"Authorization": f"Bearer {stolen}"})
    assert answer.status_code == 401
    assert answer.get_json()["message"] == "Invalid token: revoked"
    assert status(by_id) == 401
    assert status(kept) == 200
    again = runner.invoke(main, ["revoke-token", stolen])
    assert "already revoked" in again.output
    app.config["CONTAINER"].close()


def test_revoke_token_refuses_a_token_signed_with_another_secret(env):
    forged = jwt.encode({"jti": "x", "account_id": "a"}, "another-secret-" + "o" * 20,
                        algorithm="HS256")
    result = CliRunner().invoke(main, ["revoke-token", forged])
    assert result.exit_code == 1
    assert "not a token signed with CONNECTOR_JWT_SECRET" in result.output
