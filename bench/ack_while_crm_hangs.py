"""Webhook acknowledgement latency while HubSpot is fine, and while a HubSpot call of an
earlier batch hangs (the fake holds every CRM call until the end of the run).

Every webhook is one signed ``contact.creation`` event for a connected portal, sent
one after the other to a running connector (threads executor, real HTTP on 127.0.0.1).
No CRM call happens inside a database session, so the second column should look like
the first. Example::

    python bench/ack_while_crm_hangs.py --webhooks 200
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.hubspot.fake_server import FakeHubSpot, WebhookSender, make_event  # noqa: E402
from bench.common import percentile, print_table, served  # noqa: E402
from connector.bootstrap import bootstrap  # noqa: E402
from connector.config import Config  # noqa: E402
from connector.store.models import AccountRow  # noqa: E402
from connector.web import create_app  # noqa: E402

SECRET = "bench-client-secret"


def acks(sender: WebhookSender, first_id: int, count: int) -> list[float]:
    """Milliseconds from send to 204 for ``count`` webhooks, one at a time."""
    samples = []
    for n in range(count):
        start = time.perf_counter()
        response = sender.send([make_event("contact.creation", first_id + n)])
        samples.append((time.perf_counter() - start) * 1000)
        if response.status_code != 204:
            raise SystemExit(f"webhook answered {response.status_code}: {response.text}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=200, help="per phase (max 2000)")
    args = parser.parse_args()
    count = max(1, min(args.webhooks, 2000))
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp, FakeHubSpot() as fake:
        config = Config(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", executor="threads",
                        worker_threads=2, sweep_interval_seconds=1, jwt_secret="j" * 32,
                        secret_key="s" * 32, hubspot_client_secret=SECRET,
                        hubspot_access_token=fake.token, hubspot_api_base=fake.url)
        container = bootstrap(config, start_executor=True)
        try:
            with container.db.session() as session:
                account = AccountRow(name="Bench", active=True)
                session.add(account)
                session.flush()
                account_id = account.id
            container.extras["hubspot"].portals.connect(str(fake.portal_id), account_id)
            with served(create_app(container=container)) as url:
                sender = WebhookSender(url + "/webhooks/hubspot", SECRET)
                normal = acks(sender, 1_000_000, count)
                gate = threading.Event()
                fake.faults.hold = gate
                try:
                    acks(sender, 2_000_000, 1)
                    if not fake.held.wait(30):
                        raise SystemExit("processing never called HubSpot")
                    hanging = acks(sender, 3_000_000, count)
                    still_held = fake.holding
                finally:
                    gate.set()
        finally:
            container.close()
    rows = [(name, len(s), f"{percentile(s, 50):.1f}", f"{percentile(s, 99):.1f}",
             f"{max(s):.1f}") for name, s in (("HubSpot answering", normal),
                                              ("HubSpot call hanging", hanging))]
    print_table(["phase", "webhooks", "p50 ms", "p99 ms", "max ms"], rows)
    print(f"CRM calls still hanging when the last webhook was answered: {still_held}")


if __name__ == "__main__":
    main()
