"""``connector serve``'s acknowledgement lane: a webhook is answered while every general
thread is busy with API calls, as waitress's single first-come pool would not."""

from __future__ import annotations

import http.client
import threading
from types import SimpleNamespace

from connector.web.server import LanedTaskDispatcher, is_ack_path, make_server


def test_ack_paths():
    assert is_ack_path("/webhooks/hubspot")
    assert is_ack_path("/webhooks/salesforce/outbound")
    assert is_ack_path("/healthz")
    assert not is_ack_path("/dispatch/router")
    assert not is_ack_path("/webhooks")  # not a delivery route
    assert not is_ack_path("/admin/webhooks/hubspot")


def test_a_channel_goes_to_the_lane_of_its_first_request():
    lanes = LanedTaskDispatcher(threads=1, ack_threads=1)
    try:
        def channel(*paths: str) -> SimpleNamespace:
            return SimpleNamespace(requests=[SimpleNamespace(path=p) for p in paths])

        assert lanes.lane(channel("/webhooks/hubspot", "/dispatch/router")) is lanes.acks
        assert lanes.lane(channel("/dispatch/router")) is lanes.general
        assert lanes.lane(SimpleNamespace(requests=[])) is lanes.general
    finally:
        lanes.shutdown()


def test_a_webhook_is_answered_while_the_api_threads_are_all_busy():
    release = threading.Event()
    busy = threading.Semaphore(0)

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/dispatch/router":
            busy.release()
            release.wait(30)
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        start_response("204 No Content", [])
        return [b""]

    server = make_server(app, host="127.0.0.1", port=0, threads=2, ack_threads=1,
                         connection_limit=50)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    port = server.effective_port
    api_calls = []
    try:
        for _ in range(3):  # two hold both general threads, the third waits in their queue
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/dispatch/router", b"{}")
            api_calls.append(connection)
        assert busy.acquire(timeout=10) and busy.acquire(timeout=10)
        hook = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        hook.request("POST", "/webhooks/hubspot", b"[]")
        assert hook.getresponse().status == 204
        assert not release.is_set()  # answered while the API calls still hold their threads
        hook.close()
    finally:
        release.set()
        for connection in api_calls:
            assert connection.getresponse().status == 200
            connection.close()
        server.close()
        server.task_dispatcher.shutdown()
