"""instance/connector.env: written once with strong secrets, private, read by every
command, and the environment wins over it."""

from __future__ import annotations

import jwt
from click.testing import CliRunner

from connector.cli import main
from connector.config import Config
from connector.instance import create_instance_file, instance_file, read_instance_file


def test_the_file_is_private_ignored_and_never_overwritten(tmp_path):
    path = tmp_path / "instance" / "connector.env"
    assert create_instance_file(path)
    first = read_instance_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert (path.parent / ".gitignore").read_text() == "*\n"
    assert len(first["CONNECTOR_JWT_SECRET"].encode()) >= 32
    assert len(first["CONNECTOR_SECRET_KEY"].encode()) >= 32
    assert not create_instance_file(path)
    assert read_instance_file(path) == first
    other = tmp_path / "other" / "connector.env"
    create_instance_file(other)
    assert read_instance_file(other)["CONNECTOR_JWT_SECRET"] != first["CONNECTOR_JWT_SECRET"]


def test_config_reads_the_file_and_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("CONNECTOR_INSTANCE_DIR", str(tmp_path / "inst"))
    monkeypatch.delenv("CONNECTOR_JWT_SECRET", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = instance_file()
    create_instance_file(path, {"CONNECTOR_JWT_SECRET": "f" * 40,
                                "DATABASE_URL": "sqlite:///from-file.db"})
    assert Config.from_env().jwt_secret == "f" * 40
    assert Config.from_env().database_url == "sqlite:///from-file.db"
    monkeypatch.setenv("CONNECTOR_JWT_SECRET", "e" * 40)
    assert Config.from_env().jwt_secret == "e" * 40
    monkeypatch.setenv("CONNECTOR_JWT_SECRET", "")  # empty is unset, as everywhere
    assert Config.from_env().jwt_secret == "f" * 40


def test_token_is_signed_with_the_file_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("CONNECTOR_INSTANCE_DIR", str(tmp_path / "inst"))
    monkeypatch.delenv("CONNECTOR_JWT_SECRET", raising=False)
    runner = CliRunner()
    missing = runner.invoke(main, ["token", "--account", "a1"])
    assert missing.exit_code != 0
    assert "CONNECTOR_JWT_SECRET is not set" in missing.output
    create_instance_file(instance_file())
    secret = read_instance_file(instance_file())["CONNECTOR_JWT_SECRET"]
    issued = runner.invoke(main, ["token", "--account", "a1"])
    assert issued.exit_code == 0, issued.output
    assert jwt.decode(issued.stdout.strip(), secret, algorithms=["HS256"])["account_id"] == "a1"
