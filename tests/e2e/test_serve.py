"""``connector serve`` starts on an empty SQLite file: migrates it and answers over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import requests

from connector.store.db import Database
from tests.conftest import JWT_SECRET
from tests.support.migrations import READY_LINE
from tests.support.waiting import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthz(process: subprocess.Popen, port: int) -> requests.Response:
    """The first answer of a starting server (polled: it is another process)."""

    def answer() -> tuple[requests.Response]:  # a tuple: any status counts as an answer
        assert process.poll() is None, process.stdout.read()
        return (requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2),)

    return wait_until(answer, 60, "serve to come up", interval=0.2,
                      ignore=(requests.ConnectionError,))[0]


def test_serve_migrates_an_empty_database_and_answers(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "CONNECTOR_JWT_SECRET": JWT_SECRET}
    process = subprocess.Popen([sys.executable, "-m", "connector.cli", "serve", "--port",
                                str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        reply = _healthz(process, port)
        assert reply.status_code == 200
        assert not Database(url).is_empty()
        unauthorised = requests.post(f"http://127.0.0.1:{port}/dispatch/router", json={},
                                     timeout=5)
        assert unauthorised.status_code == 401
        assert unauthorised.json()["error"] is True
    finally:
        process.terminate()
        process.wait(10)


def test_first_serve_keeps_its_secrets_for_the_next_commands(tmp_path):
    """No secret in the environment: serve writes instance/connector.env (0600) with new
    ones, says so and that the database is ready in one line each, and a token printed by
    ``connector token`` in the same directory is accepted by that server."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CONNECTOR_JWT_SECRET", "CONNECTOR_SECRET_KEY")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    env["CONNECTOR_INSTANCE_DIR"] = str(tmp_path / "instance")
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "connector.cli", "serve", "--port",
                                str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        _healthz(process, port)
        settings = tmp_path / "instance" / "connector.env"
        assert settings.stat().st_mode & 0o777 == 0o600
        account = subprocess.run([sys.executable, "-m", "connector.cli", "accounts", "create",
                                  "--name", "Acme"], env=env, capture_output=True, text=True,
                                 timeout=60, check=True).stdout.strip()
        token = subprocess.run([sys.executable, "-m", "connector.cli", "token", "--account",
                                account], env=env, capture_output=True, text=True, timeout=60,
                               check=True).stdout.strip()
        me = requests.get(f"http://127.0.0.1:{port}/account", timeout=5,
                          headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        assert me.json()["id"] == account
        console = requests.get(f"http://127.0.0.1:{port}/admin/login", timeout=5)
        assert console.status_code == 200  # CONNECTOR_SECRET_KEY came from the file too
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert f"{settings} written with new secrets" in output
    assert READY_LINE in output
    assert "Running upgrade" not in output and "alembic" not in output
