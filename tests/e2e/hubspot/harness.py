"""A running connector (real HTTP, in-process threads executor) wired to a FakeHubSpot."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select
from werkzeug.serving import make_server

from adapters.hubspot.fake_server import FakeHubSpot, WebhookSender
from connector.bootstrap import bootstrap
from connector.config import Config
from connector.store.models import DecisionRow, InboxEventRow
from connector.web import create_app
from connector.web.auth import issue_token
from tests.support.waiting import wait_until as wait_for  # noqa: F401 (the e2e tests' name)

CLIENT_SECRET = "app-client-secret-for-tests"
JWT_SECRET = "e2e-jwt-secret-" + "y" * 20


class Running:
    """The service on 127.0.0.1:<free port> with its own SQLite file."""

    def __init__(self, fake: FakeHubSpot, database_url: str, **overrides: Any) -> None:
        self.fake = fake
        settings = dict(database_url=database_url, executor="threads", worker_threads=2,
                        sweep_interval_seconds=1, jwt_secret=JWT_SECRET,
                        secret_key="s" * 32, hubspot_client_secret=CLIENT_SECRET,
                        hubspot_access_token=fake.token, hubspot_api_base=fake.url,
                        hubspot_app_id=str(fake.app_id), hubspot_burst_limit=fake.rate_limit)
        settings.update(overrides)
        self.container = bootstrap(Config(**settings), start_executor=True)
        self.app = create_app(container=self.container)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.sender = WebhookSender(self.url + "/webhooks/hubspot", CLIENT_SECRET)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self.container.close()

    def token(self, account_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(JWT_SECRET, account_id)}"}

    def count(self, model, *where) -> int:
        with self.container.db.session() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where))

    def inbox_count(self) -> int:
        return self.count(InboxEventRow)

    def decisions(self) -> int:
        return self.count(DecisionRow)


