"""``connector serve`` starts on an empty SQLite file: migrates it and answers over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import requests

from connector.store.db import Database
from tests.conftest import JWT_SECRET


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_migrates_an_empty_database_and_answers(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "CONNECTOR_JWT_SECRET": JWT_SECRET}
    process = subprocess.Popen([sys.executable, "-m", "connector.cli", "serve", "--port",
                                str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                reply = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "serve did not come up in 60 s"
                time.sleep(0.2)
        assert reply.status_code == 200
        assert not Database(url).is_empty()
        unauthorised = requests.post(f"http://127.0.0.1:{port}/dispatch/router", json={},
                                     timeout=5)
        assert unauthorised.status_code == 401
        assert unauthorised.json()["error"] is True
    finally:
        process.terminate()
        process.wait(10)


def test_serve_without_jwt_secret_names_the_variable(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CONNECTOR_JWT_SECRET"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    result = subprocess.run([sys.executable, "-m", "connector.cli", "serve", "--port",
                             str(_free_port())], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "CONNECTOR_JWT_SECRET" in result.stderr + result.stdout
