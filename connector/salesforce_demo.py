"""A running connector wired to a running fake Salesforce, both on 127.0.0.1 port 0: what
``connector demo-salesforce``, the end-to-end tests and ``bench/byoc_e2e.py`` run against.

Like ``bootstrap`` this is a composition root (it knows the adapters' fakes), used only
for demonstrations and tests, never by the service itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from werkzeug.serving import make_server

from adapters.salesforce.fake_keys import KeyPair, generate_key_pair
from adapters.salesforce.fake_senders import (
    ByocEventSender,
    OutboundMessageSender,
    outbound_endpoint,
)
from adapters.salesforce.fake_server import FakeSalesforce
from adapters.salesforce.retry import RetryPolicy
from connector.bootstrap import bootstrap
from connector.config import Config
from connector.store.models import AccountRow
from connector.web import create_app
from connector.web.auth import issue_token

WEBHOOK_SECRET = "whsec-" + "s" * 26
OUTBOUND_SECRET = "om-secret-" + "o" * 22
JWT_SECRET = "e2e-secret-" + "x" * 24
FAST = RetryPolicy(max_attempts=4, max_total_seconds=10, backoff_base=0.01, backoff_max=0.05,
                   limit_backoff=0.05)


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition"
             ) -> Any:
    """Poll until ``predicate()`` is truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class SalesforceEnv:
    fake: FakeSalesforce
    container: Any
    url: str
    account_id: str
    byoc: ByocEventSender
    outbound: OutboundMessageSender
    _server: Any = None
    _thread: Any = None
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def ports(self):
        return self.container.extras["salesforce_ports"]

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        token = issue_token(JWT_SECRET, self.account_id)
        return self.http.request(method, self.url + path,
                                 headers={"Authorization": f"Bearer {token}"}, **kw)

    def add_rep(self, email: str, *, salesforce: bool = True, crm_id: bool = False) -> str:
        """A rep in the connector (and a User in the fake org unless ``salesforce=False``)."""
        body: dict[str, Any] = {"email": email}
        if salesforce:
            user_id = self.fake.add_user(email)
            if crm_id:
                body["crm_ids"] = {"salesforce": user_id}
        resp = self.api("POST", "/users", json=body)
        assert resp.status_code == 201, resp.text
        return resp.json()["id"]

    def add_router(self, object_type: str, rep_ids: list[str], destination: dict | None,
                   **settings: Any) -> str:
        body = {"name": f"{object_type} router", "object_type": object_type, "published": True,
                "settings": {"users": [{"user_id": r} for r in rep_ids], **settings}}
        if destination is not None:
            body["settings"]["destination"] = destination
        resp = self.api("POST", "/routers", json=body)
        assert resp.status_code == 201, resp.text
        return resp.json()["id"]

    def conversation(self, identifier: str) -> dict[str, Any] | None:
        from connector.store import salesforce as store

        with self.container.db.session() as session:
            row = store.conversation(session, self.account_id, identifier)
            return None if row is None else store.conversation_as_dict(row)

    def wait_state(self, identifier: str, *states: str, timeout: float = 20.0
                   ) -> dict[str, Any]:
        def reached():
            conv = self.conversation(identifier)
            return conv if conv and conv["state"] in states else None
        return wait_for(reached, timeout, f"{identifier} in state {states} "
                                          f"(now {self.conversation(identifier)})")

    def decision(self, decision_id: str) -> dict[str, Any]:
        from connector.store.models import DecisionRow
        from connector.store.repositories import decision_as_dict

        with self.container.db.session() as session:
            return decision_as_dict(session.get(DecisionRow, decision_id))

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self.container.close()


def start_env(tmp_path, fake: FakeSalesforce, keys: KeyPair, **overrides: Any
              ) -> SalesforceEnv:
    config = Config(
        database_url=f"sqlite:///{tmp_path / 'connector.db'}", executor="threads",
        worker_threads=2, sweep_interval_seconds=1, jwt_secret=JWT_SECRET,
        secret_key="k" * 32, salesforce_login_url=fake.url,
        salesforce_client_id=fake.client_id, salesforce_username=fake.username,
        salesforce_private_key=keys.private_key_pem, salesforce_org_id=fake.org_id,
        salesforce_webhook_secret=WEBHOOK_SECRET, byoc_scrt_url=fake.url,
        salesforce_outbound_secrets=(OUTBOUND_SECRET,),
        byoc_org_id=fake.org_id, byoc_authorization_context=fake.authorization_context,
    ).with_overrides(overrides)
    container = bootstrap(config, start_executor=True)
    with container.db.session() as session:
        account = AccountRow(name="Acme", active=True)
        session.add(account)
        session.flush()
        account_id = account.id
    ports = container.extras["salesforce_ports"]
    ports.account_id = account_id
    ports.conversations.retry = FAST
    ports.writer.retry = FAST
    app = create_app(container=container)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    env = SalesforceEnv(fake=fake, container=container, url=url, account_id=account_id,
                        byoc=ByocEventSender(url + "/webhooks/salesforce", WEBHOOK_SECRET),
                        outbound=OutboundMessageSender(outbound_endpoint(url, OUTBOUND_SECRET),
                                                       fake.org_id + "AAA"))
    env._server, env._thread = server, thread
    return env


def new_fake(keys: KeyPair | None = None, **kw: Any) -> tuple[FakeSalesforce, KeyPair]:
    keys = keys or generate_key_pair()
    return FakeSalesforce(certificate_pem=keys.certificate_pem, **kw).start(), keys


def demo(conversations: int = 3, records: int = 5, echo: Callable[[str], None] = print,
         progress: Callable[[int, str], Any] | None = None) -> dict[str, Any]:
    """The whole Salesforce flow once: BYOC conversations routed to reps through v1/route
    and v1/agentWork, one declined and re-offered, then Outbound Message leads whose
    OwnerId is written back. ``progress(length, label)`` gives a context manager whose
    ``update(n)`` is called as conversations are offered and owners written (the command
    passes ``click.progressbar``); the summary is printed through ``echo``. Returns what
    happened."""
    import logging

    from connector.logs import quieter

    # the demo runs without HubSpot: that it is not configured is no news here
    with quieter({"werkzeug": logging.WARNING, "connector.web.hubspot": logging.ERROR}):
        return _demo(conversations, records, echo, progress)


def _demo(conversations: int, records: int, echo: Callable[[str], None],
          progress: Callable[[int, str], Any] | None) -> dict[str, Any]:
    import tempfile
    from pathlib import Path

    fake, keys = new_fake()
    with tempfile.TemporaryDirectory() as tmp:
        env = start_env(Path(tmp), fake, keys)
        try:
            if migrated_to := env.container.extras.get("migrated_to"):
                echo(f"database ready (migrated to {migrated_to})")
            reps = [env.add_rep(f"{name}@example.com", crm_id=True)
                    for name in ("ana", "bob", "cleo")]
            env.add_router("conversation", reps, {"kind": "rep"})
            env.add_router("lead", reps, None)
            echo(f"fake Salesforce on {fake.url}, connector on {env.url}; {len(reps)} reps, "
                 f"{conversations} conversations, {records} leads")
            bar = (progress or _no_progress)(conversations + 1 + records, "routed")
            with bar:
                ids = [f"demo-conv-{i}" for i in range(conversations)]
                env.byoc.send([env.byoc.conversation_started(c) for c in ids])
                offered = {}
                for c in ids:
                    offered[c] = env.wait_state(c, "offered")["salesforce_user_id"]
                    bar.update(1)
                first = env.conversation(ids[0]) or {}
                env.byoc.send([env.byoc.work_result(ids[0], "Declined",
                                                    work_id=first.get("agent_work_id") or "")])
                wait_for(lambda: len(fake.agent_works) > conversations, what="re-offer")
                reoffered = env.wait_state(ids[0], "offered")
                bar.update(1)
                leads = [fake.add_record("Lead", {"Email": f"lead{i}@example.com"})
                         for i in range(records)]
                status, acked = env.outbound.send(
                    "Lead", [{"Id": lead, "Email": f"lead{i}@example.com"}
                             for i, lead in enumerate(leads)])
                written = [0]

                def owners_written() -> bool:
                    now = sum(1 for lead in leads if fake.owner_of(lead))
                    bar.update(now - written[0])
                    written[0] = now
                    return now == len(leads)

                wait_for(owners_written, what="owners")
            result = {"route_calls": len(fake.requests_to("POST", "/api/v1/route")),
                      "agent_works": len(fake.agent_works),
                      "owner_batches": list(fake.owner_batches)}
            _summary(echo, fake, offered, ids[0], reoffered, status, acked,
                     [fake.owner_of(lead) for lead in leads], result)
            return result
        finally:
            env.stop()
            fake.stop()


class _no_progress:
    """``progress`` when the caller shows none."""

    def __init__(self, length: int, label: str) -> None:
        pass

    def __enter__(self) -> _no_progress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: int) -> None:
        pass


def _summary(echo: Callable[[str], None], fake: FakeSalesforce, offered: dict[str, str],
             declined: str, reoffered: dict[str, Any], status: int, acked: bool,
             owners: list[str | None], result: dict[str, Any]) -> None:
    """Who got what, by rep: conversations, the transfer after the decline, lead owners,
    and the Salesforce API calls it all took."""
    from collections import Counter

    names = {user_id: email for email, user_id in fake.users.items()}
    width = max(len(n) for n in names.values()) if names else 10
    echo("")
    echo(f"{'conversation':<14}  {'offered to':<{width}}")
    for conversation, user in offered.items():
        echo(f"{conversation:<14}  {names.get(user, user):<{width}}")
    again = reoffered.get("salesforce_user_id")
    echo("")
    echo(f"declined and routed again: {declined}, declined by "
         f"{names.get(offered[declined], '?')}, now {reoffered.get('state')} to "
         f"{names.get(again, again)}")
    echo("")
    per_rep = Counter(names.get(owner or "", owner or "nobody") for owner in owners)
    echo(f"Outbound Message of {len(owners)} leads: HTTP {status}, Ack {acked}")
    echo(f"{'rep':<{width}}  {'leads (OwnerId written)':>23}")
    for email in sorted(names.values()):
        echo(f"{email:<{width}}  {per_rep.get(email, 0):>23}")
    calls = Counter(f"{r.method} {_collapse(r.path)}" for r in fake.requests)
    echo("")
    echo(f"{sum(calls.values())} Salesforce API calls: "
         + ", ".join(f"{n} x {call}" for call, n in sorted(calls.items()))
         + f"; OwnerId written in {len(result['owner_batches'])} batch(es)")


def _collapse(path: str) -> str:
    """``/services/data/v62.0/sobjects/Lead/00Q...`` as ``.../sobjects/Lead/{id}``: calls
    are counted by kind, not by record."""
    import re

    return re.sub(r"/[0-9A-Za-z]{15,18}(?=/|$)", "/{id}", path)
