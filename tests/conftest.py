"""Shared fixtures: a fresh app per test on its own SQLite file, a client, tokens, and a
fresh PostgreSQL database for tests marked ``postgres``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from connector.bootstrap import bootstrap
from connector.config import Config
from connector.web import create_app
from connector.web.auth import issue_token

JWT_SECRET = "test-secret-" + "x" * 20
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _instance_dir(tmp_path, monkeypatch) -> None:
    """Commands and configs of a test read their own (empty) instance directory, never an
    ``instance/connector.env`` left in the checkout by a local ``connector serve``."""
    monkeypatch.setenv("CONNECTOR_INSTANCE_DIR", str(tmp_path / "instance"))


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """SQLite by default; ``TEST_DATABASE=postgres`` runs the same tests on PostgreSQL."""
    if os.environ.get("TEST_DATABASE") == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'connector.db'}"


@pytest.fixture
def config(database_url) -> Config:
    return Config(database_url=database_url, executor="inline", jwt_secret=JWT_SECRET,
                  secret_key="k" * 32)


@pytest.fixture
def container(config):
    c = bootstrap(config)
    yield c
    c.close()


@pytest.fixture
def app(container):
    return create_app(container=container)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_account(container):
    from connector.store.models import AccountRow

    def make(name: str = "Acme", active: bool = True) -> str:
        with container.db.session() as session:
            row = AccountRow(name=name, active=active)
            session.add(row)
            session.flush()
            return row.id

    return make


@pytest.fixture
def account_id(make_account) -> str:
    return make_account()


def auth(account_id: str | None, *, admin: bool = False) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(JWT_SECRET, account_id, admin=admin)}"}


@pytest.fixture
def headers(account_id) -> dict[str, str]:
    return auth(account_id)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}. "
                    "Start it; these tests do not skip.")
    engine.dispose()
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """A brand-new database for one test, dropped afterwards."""
    name = f"connector_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = postgres_server.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
