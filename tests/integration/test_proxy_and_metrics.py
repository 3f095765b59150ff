"""Behind a TLS proxy (Heroku's router: TLS ends there, the app gets plain HTTP with
X-Forwarded-*), and the optional bearer token of /metrics."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from adapters.hubspot.fake_server import make_event
from adapters.hubspot.signatures import sign_v3
from connector.bootstrap import bootstrap
from connector.config import Config, ConfigError
from connector.jobs import inbox
from connector.web import create_app

SECRET = "proxy-test-client-secret"
PUBLIC = "https://connector.example.com/webhooks/hubspot"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "connector.example.com",
             "X-Forwarded-For": "54.174.0.10"}


def _hub(config, **settings):
    c = bootstrap(dataclasses.replace(config, hubspot_client_secret=SECRET, **settings))
    return c, create_app(container=c).test_client()


def _delivery(url: str = PUBLIC) -> tuple[bytes, dict[str, str]]:
    body = json.dumps([make_event("contact.creation", 42)]).encode()
    ts = int(time.time() * 1000)
    return body, {"Content-Type": "application/json", "X-HubSpot-Request-Timestamp": str(ts),
                  "X-HubSpot-Signature-v3": sign_v3(SECRET, "POST", url, body, ts)}


def test_hubspot_signature_verifies_behind_a_trusted_tls_proxy_without_public_url(config):
    container, client = _hub(config, trusted_proxies=1)
    body, headers = _delivery()
    answer = client.post("/webhooks/hubspot", data=body, headers={**headers, **FORWARDED})
    assert answer.status_code == 204, answer.get_json()
    assert inbox.counts(container.db) == {"pending": 1}
    container.close()


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted(config):
    container, client = _hub(config)  # CONNECTOR_TRUSTED_PROXIES=0, the default
    body, headers = _delivery()
    answer = client.post("/webhooks/hubspot", data=body, headers={**headers, **FORWARDED})
    assert answer.status_code == 401
    assert inbox.counts(container.db) == {}
    container.close()


def test_only_the_trusted_number_of_hops_is_believed(config):
    """A client that prepends its own X-Forwarded-Host cannot choose the signed host: with
    one trusted proxy only the value that proxy appended counts."""
    container, client = _hub(config, trusted_proxies=1)
    body, headers = _delivery("https://attacker.example/webhooks/hubspot")
    spoofed = {**FORWARDED, "X-Forwarded-Host": "attacker.example, connector.example.com"}
    answer = client.post("/webhooks/hubspot", data=body, headers={**headers, **spoofed})
    assert answer.status_code == 401
    container.close()


def test_trusted_proxies_comes_from_the_environment_and_must_not_be_negative():
    assert Config.from_env({"CONNECTOR_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    assert Config.from_env({}).trusted_proxies == 0
    with pytest.raises(ConfigError, match="CONNECTOR_TRUSTED_PROXIES"):
        create_app(Config(jwt_secret="j" * 32, trusted_proxies=-1, executor="inline",
                          database_url="sqlite://"))


def test_metrics_are_open_without_a_token(client):
    assert client.get("/metrics").status_code == 200


def test_metrics_need_the_bearer_token_when_one_is_set(config):
    app = create_app(dataclasses.replace(config, metrics_token="m" * 40))
    client = app.test_client()
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert "CONNECTOR_METRICS_TOKEN" in missing.get_json()["message"]
    assert "m" * 40 not in missing.get_data(as_text=True)
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    good = client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 40})
    assert good.status_code == 200
    assert b"connector_queue_depth" in good.data
    app.config["CONTAINER"].close()


def test_heroku_style_forwarding_without_forwarded_host_verifies(config):
    """Heroku's router keeps the Host header and adds X-Forwarded-For, -Proto and -Port."""
    container, client = _hub(config, trusted_proxies=1)
    body, headers = _delivery()
    heroku = {"Host": "connector.example.com", "X-Forwarded-Proto": "https",
              "X-Forwarded-Port": "443", "X-Forwarded-For": "54.174.0.10"}
    answer = client.post("/webhooks/hubspot", data=body, headers={**headers, **heroku})
    assert answer.status_code == 204, answer.get_json()
    container.close()


def test_a_workers_own_metrics_server_needs_the_token_too():
    import requests

    from connector.metrics import start_worker_metrics_server

    server = start_worker_metrics_server(0, "127.0.0.1", "w" * 40)
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        refused = requests.get(url, timeout=5)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
        assert wrong.status_code == 401
        good = requests.get(url, headers={"Authorization": "Bearer " + "w" * 40}, timeout=5)
        assert good.status_code == 200 and "connector_events_failed" in good.text
    finally:
        server.shutdown()
        server.server_close()
    open_server = start_worker_metrics_server(0, "127.0.0.1", None)
    try:
        assert requests.get(f"http://127.0.0.1:{open_server.server_port}/metrics",
                            timeout=5).status_code == 200
    finally:
        open_server.shutdown()
        open_server.server_close()
