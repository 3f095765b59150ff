"""CRM tokens and secrets never reach the logs or the database in clear text.

A whole flow runs with logging at DEBUG (signed webhooks in, records read, owners written,
a 401 from HubSpot, a bad signature, OAuth tokens stored for a portal); afterwards neither
the captured log text nor any text in any table contains a secret."""

from __future__ import annotations

import logging
import time

import requests
from sqlalchemy import inspect, text

from adapters.hubspot.fake_server import FakeHubSpot, make_event
from connector.service.hubspot_portals import StoredTokens
from connector.store.models import AccountRow
from tests.e2e.hubspot.harness import CLIENT_SECRET, JWT_SECRET, Running, wait_for

OAUTH_ACCESS = "oauth-access-token-do-not-log-1234567890"
OAUTH_REFRESH = "oauth-refresh-token-do-not-log-0987654321"


def _database_text(container) -> str:
    chunks = []
    with container.db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def test_secrets_absent_from_logs_and_encrypted_at_rest(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeHubSpot(token="pat-na1-static-token-do-not-log-42") as fake:
        service = Running(fake, f"sqlite:///{tmp_path / 'db'}")
        try:
            with service.container.db.session() as session:
                account = AccountRow(name="Acme", active=True)
                session.add(account)
                session.flush()
                account_id = account.id
            portals = service.container.extras["hubspot"].portals
            portals.connect(str(fake.portal_id), account_id)
            portals.connect("999", account_id, StoredTokens(OAUTH_ACCESS, OAUTH_REFRESH,
                                                            time.time() + 3600))
            headers = service.token(account_id)
            owner = fake.add_owner("ana@example.com")
            user = requests.post(service.url + "/users", json={"email": "ana@example.com"},
                                 headers=headers, timeout=10).json()["id"]
            r = requests.post(service.url + "/routers", headers=headers, timeout=10, json={
                "name": "R", "object_type": "contact", "published": True,
                "settings": {"users": [{"user_id": user}]}})
            assert r.status_code == 201
            ids = [fake.create_object("contacts", {"email": f"l{i}@x.test"}) for i in range(3)]
            assert service.sender.send([make_event("contact.creation", int(i))
                                        for i in ids]).status_code == 204
            wait_for(lambda: all(fake.owner_of("contacts", i) == owner for i in ids))
            # failures that get logged: HubSpot refusing the token, a forged signature
            fake.expire_token(fake.token)
            more = fake.create_object("contacts", {"email": "late@x.test"})
            assert service.sender.send([make_event("contact.creation",
                                                   int(more))]).status_code == 204
            forged = requests.post(service.url + "/webhooks/hubspot", data=b"[]", timeout=10,
                                   headers={"X-HubSpot-Signature-v3": "AAAA",
                                            "X-HubSpot-Request-Timestamp": "1"})
            assert forged.status_code == 401
            wait_for(lambda: "expired" in caplog.text, what="the refused token logged")
            assert service.container.extras["hubspot"].portals._load_tokens("999") \
                .access_token == OAUTH_ACCESS
            stored = _database_text(service.container)
        finally:
            service.stop()
    logs = caplog.text
    assert "expired" in logs  # the refused token was logged about, without the token
    secrets = [fake.token, CLIENT_SECRET, JWT_SECRET, OAUTH_ACCESS, OAUTH_REFRESH,
               headers["Authorization"][7:], service.container.config.secret_key]
    for secret in secrets:
        assert secret not in logs, f"a secret reached the logs: {secret[:6]}..."
    for secret in (OAUTH_ACCESS, OAUTH_REFRESH, JWT_SECRET, CLIENT_SECRET, fake.token):
        assert secret not in stored, f"a secret is stored in clear text: {secret[:6]}..."
