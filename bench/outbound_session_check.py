"""What checking an Outbound Message's session with Salesforce costs the acknowledgement
(``SALESFORCE_OUTBOUND_VERIFY_SESSION``): acks without the check, with the check and one
session (confirmed once, then remembered), and with a new session on every message (one
call to the org each). The org is the fake Salesforce on 127.0.0.1 (Python's HTTP
server, whose answers on a kept-alive connection wait for a delayed TCP acknowledgement:
about 40 ms a call here, against 2.5 ms on a fresh connection); a real org costs its
network round trip instead, once per session for the second column. Example::

    python bench/outbound_session_check.py --messages 200
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.salesforce.fake_keys import generate_key_pair  # noqa: E402
from adapters.salesforce.fake_senders import OutboundMessageSender, outbound_endpoint  # noqa: E402
from adapters.salesforce.fake_server import FakeSalesforce  # noqa: E402
from bench.common import percentile, print_table, served  # noqa: E402
from connector.bootstrap import bootstrap  # noqa: E402
from connector.config import Config  # noqa: E402
from connector.web import create_app  # noqa: E402
from connector.web.salesforce import SESSION_VERIFIER  # noqa: E402

ORG = "00D000000000001"
SECRET = "bench-outbound-secret-" + "b" * 10


def run(fake: FakeSalesforce, tmp: str, name: str, verify: bool, new_session_each: bool,
        count: int) -> list[float]:
    """Milliseconds from send to Ack for ``count`` messages, one at a time."""
    config = Config(database_url=f"sqlite:///{tmp}/{name}.db", executor="inline",
                    jwt_secret="b" * 40, secret_key="k" * 32, salesforce_org_id=ORG,
                    salesforce_outbound_secrets=(SECRET,),
                    salesforce_outbound_verify_session=verify,
                    salesforce_instance_url=fake.url)
    container = bootstrap(config, start_executor=False)
    container.executor = None  # acknowledgements only: nothing is processed
    samples = []
    app = create_app(container=container)
    if verify:  # measure every call: lift the per-minute budget of new sessions
        app.extensions[SESSION_VERIFIER].calls_per_minute = count + 1
    try:
        with served(app) as url:
            session = fake.open_session()
            for n in range(count):
                if new_session_each:
                    session = fake.open_session()
                sender = OutboundMessageSender(outbound_endpoint(url, SECRET), ORG + "EAA",
                                               session_id=session,
                                               enterprise_url=f"{fake.url}/services/Soap/c/"
                                                              f"61.0/{ORG}")
                start = time.perf_counter()
                status, acked = sender.send("Lead", [{"Id": f"00Q{n:012d}"}])
                samples.append((time.perf_counter() - start) * 1000)
                if status != 200 or not acked:
                    raise SystemExit(f"{name}: message {n} got {status}")
    finally:
        container.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    keys = generate_key_pair()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, \
            FakeSalesforce(certificate_pem=keys.certificate_pem) as fake:
        base = None
        for name, verify, each in (("no check", False, False),
                                   ("check, one session", True, False),
                                   ("check, new session each", True, True)):
            before = len(fake.requests_to("GET", "/services/data/v61.0/query"))
            samples = run(fake, tmp, name.replace(" ", "_").replace(",", ""), verify, each,
                          args.messages)
            calls = len(fake.requests_to("GET", "/services/data/v61.0/query")) - before
            p50 = percentile(samples, 50)
            base = base or p50
            rows.append((name, args.messages, calls, f"{p50:.1f}",
                         f"{percentile(samples, 99):.1f}", f"{p50 / base:.2f}x"))
    print_table(("mode", "messages", "calls to org", "p50 ms", "p99 ms", "p50 vs no check"),
                rows)


if __name__ == "__main__":
    main()
