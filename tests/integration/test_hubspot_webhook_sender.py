"""WebhookSender signs batches exactly as HubSpot does: a receiver verifies them."""

import threading

from adapters.hubspot.events import parse_batch
from adapters.hubspot.fake_http import ThreadedServer
from adapters.hubspot.fake_server import WebhookSender, make_event
from adapters.hubspot.signatures import verify_request
from connector.core.errors import SignatureInvalid


def test_sender_batches_concurrently_and_signatures_verify():
    received, verdicts, lock = [], [], threading.Lock()
    base = {}

    def receive(method, path, query, headers, body):
        try:
            version = verify_request(client_secret="app-secret", method=method,
                                     uri=base["url"] + path, body=body, headers=headers)
            v1 = verify_request(client_secret="app-secret", method=method,
                                uri=base["url"] + path, body=body,
                                headers={k: v for k, v in headers.items()
                                         if k.lower() != "x-hubspot-signature-v3"},
                                versions=("v3", "v1"))
        except SignatureInvalid as exc:
            with lock:
                verdicts.append(str(exc))
            return 401, {}, None
        with lock:
            verdicts.append((version, v1))
            received.extend(parse_batch(body))
        return 204, {}, None

    server = ThreadedServer(receive)
    server.start()
    try:
        base["url"] = server.url
        sender = WebhookSender(server.url + "/webhooks/hubspot", "app-secret", concurrency=10)
        events = [make_event("contact.creation", 5000 + i) for i in range(250)]
        assert sender.send_all(events) == [204, 204, 204]
        assert verdicts == [("v3", "v1")] * 3
        assert sorted(e.object_id for e in received) == list(range(5000, 5250))

        wrong = WebhookSender(server.url + "/webhooks/hubspot", "other-secret")
        assert wrong.send([make_event("contact.creation", 1)]).status_code == 401
    finally:
        server.stop()
