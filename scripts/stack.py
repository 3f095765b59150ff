"""Start the connector's moving parts as real processes on 127.0.0.1 (fault runs, benchmarks).

Every process gets a free port, is bounded in time by its caller and is stopped by its
process id. Redis for a run is a private ``redis-server`` on its own port, so restarting
it never touches a Redis that other programs share.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CLIENT_SECRET = "fault-run-client-secret"
JWT_SECRET = "fault-run-jwt-secret-" + "z" * 16
SECRET_KEY = "fault-run-secret-key-" + "k" * 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


# PostgreSQL ------------------------------------------------------------------------------
def create_database() -> str:
    """CREATE DATABASE a fresh one; returns its URL."""
    from sqlalchemy import create_engine, text

    name = f"connector_run_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# Redis -----------------------------------------------------------------------------------
class PrivateRedis:
    """A redis-server of our own on a free port, which may be killed and restarted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        wait_until(client.ping, 15, "redis-server")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def restart(self, down_seconds: float = 1.0) -> None:
        """Kill it (everything it held is gone: no persistence) and start it again."""
        self.kill()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# The fake HubSpot in its own process ---------------------------------------------------------
def _fake_main(conn, records: int, owners: list[str], rate_limit: int, latency: float) -> None:
    from adapters.hubspot.fake_server import FakeHubSpot

    fake = FakeHubSpot(rate_limit=rate_limit, token="fake-run-token").start()
    fake.faults.latency = latency
    ids = [fake.create_object("contacts", {"email": f"lead{i}@example.org", "country": "DE"})
           for i in range(records)]
    owner_ids = {email: fake.add_owner(email) for email in owners}
    conn.send({"url": fake.url, "token": fake.token, "portal_id": fake.portal_id,
               "app_id": fake.app_id, "ids": ids, "owners": owner_ids})
    while True:
        try:
            command, arg = conn.recv()
        except EOFError:
            break
        if command == "faults":
            for key, value in arg.items():
                setattr(fake.faults, key, value)
            conn.send(True)
        elif command == "create":
            conn.send([fake.create_object("contacts", {"email": f"x{uuid.uuid4().hex}@ex.org",
                                                       "country": "DE"}) for _ in range(arg)])
        elif command == "report":
            with fake._lock:
                writes = Counter(w.record_id for w in fake.owner_writes)
                written: dict[str, list[str]] = {}
                first_write: dict[str, float] = {}
                for w in fake.owner_writes:
                    written.setdefault(w.record_id, []).append(w.owner_id)
                    first_write.setdefault(w.record_id, w.at)
                owners_now = {i: o["properties"].get("hubspot_owner_id")
                              for i, o in fake.objects["contacts"].items()}
                calls = dict(fake.calls)
            conn.send({"writes": dict(writes), "owners": owners_now, "written_owners": written,
                       "first_write": first_write,
                       "rate_limited": fake.rate_limited, "calls": calls})
        elif command == "stop":
            break
    fake.stop()


class FakeHubSpotProcess:
    """FakeHubSpot served from a child process, steered over a pipe."""

    def __init__(self, records: int, owners: list[str], *, rate_limit: int = 190,
                 latency: float = 0.0) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_fake_main, args=(child, records, owners, rate_limit,
                                                         latency), daemon=True)
        self.proc.start()
        if not self._conn.poll(300):
            raise TimeoutError("fake HubSpot did not start")
        self.info: dict[str, Any] = self._conn.recv()
        self._lock = threading.Lock()

    def call(self, command: str, arg: Any = None, timeout: float = 120) -> Any:
        with self._lock:  # one request and its answer at a time on the pipe
            self._conn.send((command, arg))
            if not self._conn.poll(timeout):
                raise TimeoutError(f"fake HubSpot did not answer {command}")
            return self._conn.recv()

    def faults(self, **values: Any) -> None:
        self.call("faults", values)

    def report(self) -> dict[str, Any]:
        return self.call("report")

    def stop(self) -> None:
        try:
            self._conn.send(("stop", None))
        except OSError:
            pass
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()


# The connector's processes ---------------------------------------------------------------
def connector_env(database_url: str, fake: dict[str, Any], **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "CONNECTOR_JWT_SECRET": JWT_SECRET,
           "CONNECTOR_SECRET_KEY": SECRET_KEY, "HUBSPOT_CLIENT_SECRET": CLIENT_SECRET,
           "HUBSPOT_ACCESS_TOKEN": fake["token"], "HUBSPOT_API_BASE": fake["url"],
           "HUBSPOT_APP_ID": str(fake["app_id"]), "PYTHONUNBUFFERED": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(extra)
    return env


def _log(logdir: Path, name: str):
    logdir.mkdir(parents=True, exist_ok=True)
    return open(logdir / f"{name}.log", "ab")


def migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "connector.cli", "migrate"], env=env, cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=120)


def start_gunicorn(env: dict[str, str], port: int, logdir: Path, *, workers: int = 2,
                   threads: int = 4, app: str = "connector.web:create_app()"
                   ) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", "--timeout", "60",
         *_no_control_socket(), app],
        env=env, cwd=ROOT, stdout=_log(logdir, f"gunicorn-{port}"), stderr=subprocess.STDOUT)
    _wait_healthy(proc, port, "gunicorn")
    return proc


def _wait_healthy(proc: subprocess.Popen, port: int, what: str) -> None:
    """Wait for /healthz; a process that never gets there is stopped, not left behind."""
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok,
                   60, what)
    except TimeoutError:
        stop(proc)
        raise


def _no_control_socket() -> list[str]:
    """Newer gunicorn opens a control socket at one fixed path; several arbiters on one
    host must not share it."""
    from gunicorn.config import Config

    return ["--no-control-socket"] if "control_socket_disable" in Config().settings else []


def start_worker(env: dict[str, str], name: str, logdir: Path, *, concurrency: int = 4
                 ) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "connector.cli", "--log-level", "WARNING", "worker",
         "--concurrency", str(concurrency), "--hostname", f"{name}@127.0.0.1"],
        env=env, cwd=ROOT, stdout=_log(logdir, name), stderr=subprocess.STDOUT)


def start_serve(env: dict[str, str], port: int, logdir: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector.cli", "--log-level", "WARNING", "serve",
         "--port", str(port)], env=env, cwd=ROOT, stdout=_log(logdir, f"serve-{port}"),
        stderr=subprocess.STDOUT)
    _wait_healthy(proc, port, "connector serve")
    return proc


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# Tenant setup ------------------------------------------------------------------------------
def setup_tenant(base_url: str, database_url: str, fake: dict[str, Any], reps: list[dict],
                 router: dict[str, Any]) -> dict[str, Any]:
    """An account connected to the fake's portal, its reps (HubSpot owners) and a router."""
    from connector.bootstrap import bootstrap
    from connector.config import Config
    from connector.store.models import AccountRow
    from connector.web.auth import issue_token

    container = bootstrap(Config(database_url=database_url, executor="inline",
                                 jwt_secret=JWT_SECRET, secret_key=SECRET_KEY))
    try:
        with container.db.session() as session:
            row = AccountRow(name="Fault run", active=True)
            session.add(row)
            session.flush()
            account_id = row.id
        container.extras["hubspot"].portals.connect(str(fake["portal_id"]), account_id)
    finally:
        container.close()
    headers = {"Authorization": f"Bearer {issue_token(JWT_SECRET, account_id)}"}
    members, rep_ids = [], {}
    for rep in reps:
        r = requests.post(base_url + "/users", json={"email": rep["email"]}, headers=headers,
                          timeout=30)
        r.raise_for_status()
        rep_ids[rep["email"]] = r.json()["id"]
        members.append({"user_id": r.json()["id"], **{k: v for k, v in rep.items()
                                                       if k != "email"}})
    body = {"name": "Inbound", "object_type": "contact", "published": True,
            "settings": {"users": members, **router}}
    r = requests.post(base_url + "/routers", json=body, headers=headers, timeout=30)
    r.raise_for_status()
    return {"account_id": account_id, "headers": headers, "rep_ids": rep_ids,
            "router_id": r.json()["id"]}


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True)
