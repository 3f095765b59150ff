"""``connector demo``: the whole HubSpot flow on this machine, in well under a minute.

Starts the bundled fake HubSpot and the connector (its web app on 127.0.0.1 and the
in-process executor, on a throw-away SQLite file), creates an account, reps who are also
HubSpot owners and a round-robin router, sends signed webhook batches for new contacts,
and shows who got which records and how many HubSpot API calls that took.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import click
import requests
from werkzeug.serving import make_server

from connector.bootstrap import bootstrap, hubspot_fakes
from connector.config import Config
from connector.logs import quieter
from connector.web import create_app
from connector.web.auth import issue_token

REPS = ("ana", "ben", "chloe", "dev", "emma")


def run_demo(contacts: int, reps: int, timeout: float, echo=click.echo) -> dict:
    """Run the demo; returns the figures it printed (tests read them)."""
    # the demo runs without Salesforce: that it is not configured is no news here
    with quieter({"werkzeug": logging.WARNING, "connector.web.salesforce": logging.ERROR}):
        return _run_demo(contacts, reps, timeout, echo)


def _run_demo(contacts: int, reps: int, timeout: float, echo) -> dict:
    FakeHubSpot, WebhookSender, make_event = hubspot_fakes()
    with tempfile.TemporaryDirectory(prefix="connector-demo-") as tmp, \
            FakeHubSpot(rate_limit=190) as fake:
        client_secret = secrets.token_urlsafe(24)
        jwt_secret = secrets.token_urlsafe(32)
        config = Config(database_url=f"sqlite:///{Path(tmp) / 'demo.db'}", executor="threads",
                        worker_threads=4, sweep_interval_seconds=1, jwt_secret=jwt_secret,
                        secret_key=secrets.token_urlsafe(32),
                        hubspot_client_secret=client_secret, hubspot_access_token=fake.token,
                        hubspot_api_base=fake.url, hubspot_app_id=str(fake.app_id))
        container = bootstrap(config, start_executor=True)
        if migrated_to := container.extras.get("migrated_to"):
            echo(f"database ready (migrated to {migrated_to})")
        server = make_server("127.0.0.1", 0, create_app(container=container), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_port}"
        try:
            return _scenario(url, fake, container, jwt_secret, client_secret, contacts, reps,
                             timeout, WebhookSender, make_event, echo)
        finally:
            server.shutdown()
            thread.join(5)
            container.close()


def _scenario(url, fake, container, jwt_secret, client_secret, contacts, reps, timeout,
              WebhookSender, make_event, echo) -> dict:
    http = requests.Session()
    admin = {"Authorization": f"Bearer {issue_token(jwt_secret, None, admin=True)}"}
    account = http.post(f"{url}/accounts", json={"name": "Demo Inc"}, headers=admin,
                        timeout=10).json()["id"]
    headers = {"Authorization": f"Bearer {issue_token(jwt_secret, account)}"}
    container.extras["hubspot"].portals.connect(str(fake.portal_id), account)
    owner_email: dict[str, str] = {}
    user_ids = []
    for name in REPS[:reps]:
        email = f"{name}@demo.example"
        owner_email[fake.add_owner(email, name.capitalize())] = email
        user_ids.append(http.post(f"{url}/users", json={"email": email}, headers=headers,
                                  timeout=10).json()["id"])
    http.post(f"{url}/routers", headers=headers, timeout=10, json={
        "name": "New contacts", "object_type": "contact", "published": True,
        "settings": {"users": [{"user_id": u} for u in user_ids]}})
    echo(f"connector on {url}, fake HubSpot on {fake.url}; {reps} reps, "
         f"{contacts} new contacts")

    ids = [fake.create_object("contacts", {"email": f"lead{i}@prospect.example",
                                           "firstname": f"Lead{i}"}) for i in range(contacts)]
    sender = WebhookSender(f"{url}/webhooks/hubspot", client_secret, concurrency=10)
    started = time.monotonic()
    statuses = sender.send_all([make_event("contact.creation", int(i),
                                           portal_id=fake.portal_id) for i in ids])
    if any(s != 204 for s in statuses):
        raise click.ClickException(f"webhooks refused: {Counter(statuses)}")

    done = 0
    with click.progressbar(length=len(ids), label="owners written") as bar:
        while done < len(ids):
            now_done = sum(1 for i in ids if fake.owner_of("contacts", i))
            bar.update(now_done - done)
            done = now_done
            if time.monotonic() - started > timeout:
                raise click.ClickException(f"only {done} of {len(ids)} owners written in "
                                           f"{timeout:.0f} s")
            time.sleep(0.1)
    elapsed = time.monotonic() - started

    per_owner = Counter(fake.owner_of("contacts", i) for i in ids)
    calls = sum(n for key, n in fake.calls.items() if "/crm/" in key)
    width = max(len(e) for e in owner_email.values())
    echo("")
    echo(f"{'rep':<{width}}  {'HubSpot owner':>13}  {'records':>7}")
    for owner_id, email in owner_email.items():
        echo(f"{email:<{width}}  {owner_id:>13}  {per_owner.get(owner_id, 0):>7}")
    echo("")
    echo(f"{len(ids)} records routed in {elapsed:.1f} s with {calls} HubSpot API calls "
         f"({calls / len(ids):.3f} per record): "
         + ", ".join(f"{n} x {k}" for k, n in sorted(fake.calls.items()) if "/crm/" in k))
    return {"records": dict(per_owner), "calls": calls, "seconds": elapsed,
            "owners": owner_email}


@click.command()
@click.option("--contacts", default=300, show_default=True, type=click.IntRange(1, 5000))
@click.option("--reps", default=3, show_default=True, type=click.IntRange(1, len(REPS)))
@click.option("--timeout", default=50.0, show_default=True, help="Seconds before giving up")
def demo(contacts: int, reps: int, timeout: float) -> None:
    """Route new HubSpot contacts end to end against the bundled fake HubSpot."""
    run_demo(contacts, reps, timeout)
