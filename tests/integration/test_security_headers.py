"""Every answer of the app, whatever route, method or outcome (page, JSON, webhook ack or
fault, error, redirect, /metrics, /healthz, /v1), tells the browser not to sniff, frame or
leak the referrer, and carries a Content Security Policy; the console's allows no inline
script."""

from __future__ import annotations

import re

import pytest

from connector.bootstrap import bootstrap
from connector.web import create_app
from connector.web.security import API_CSP, CONSOLE_CSP

ORG = "00D000000000001"
SECRET = "outbound-secret-" + "s" * 16


@pytest.fixture
def every_route_app(config):
    """An app with every optional route served (webhook secrets, metrics token...)."""
    container = bootstrap(config.with_overrides({
        "salesforce_org_id": ORG, "salesforce_outbound_secrets": (SECRET,),
        "salesforce_webhook_secret": "w" * 32, "hubspot_client_secret": "h" * 32,
        "hubspot_client_id": "client-id", "hubspot_app_id": "1",
        "metrics_token": "m" * 32}))
    app = create_app(container=container)
    yield app
    container.close()


def _sample(rule: str) -> str:
    """A path of the rule: every variable filled with a plain value of its converter."""
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>",
                  lambda m: "1" if m[1] in ("int", "float") else "x1", rule)


def _assert_headers(answer, path: str, method: str) -> None:
    where = f"{method} {path} -> {answer.status_code}"
    headers = answer.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") in ("no-referrer", "same-origin"), where
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, where
    if path == "/admin" or path.startswith("/admin/"):
        assert csp == CONSOLE_CSP, where
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, where
    else:
        assert csp == API_CSP, where
    if answer.status_code == 429:
        assert headers.get("Retry-After"), where


def test_every_route_and_method_answers_with_the_security_headers(every_route_app):
    client = every_route_app.test_client()
    seen = set()
    for rule in every_route_app.url_map.iter_rules():
        path = _sample(rule.rule)
        for method in sorted(rule.methods or ()):
            answer = client.open(path, method=method, json={} if method in (
                "POST", "PUT", "PATCH") else None)
            _assert_headers(answer, path, method)
            seen.add((rule.rule, method))
    # the doors named by the requirement are among them
    for rule, method in (("/healthz", "GET"), ("/metrics", "GET"), ("/admin/login", "GET"),
                         ("/webhooks/hubspot", "POST"), ("/v1/leads", "POST"),
                         ("/webhooks/salesforce/outbound/<path:secret>", "POST"),
                         ("/openapi.json", "GET")):
        assert (rule, method) in seen, (rule, method)


@pytest.mark.parametrize("method, path", [
    ("GET", "/no/such/page"), ("GET", "/admin/no-such-page"), ("DELETE", "/healthz"),
    ("GET", "/v1/no-such-resource"), ("POST", "/webhooks/salesforce/outbound"),
    ("POST", f"/webhooks/salesforce/outbound/{SECRET}"), ("GET", "/metrics"),
])
def test_errors_and_refusals_carry_them_too(every_route_app, method, path):
    answer = every_route_app.test_client().open(path, method=method, data=b"<x/>",
                                                content_type="text/xml")
    assert answer.status_code >= 400
    _assert_headers(answer, path, method)


def test_an_unexpected_error_carries_them(every_route_app):
    @every_route_app.get("/_boom")
    def _boom():
        raise RuntimeError("boom")

    answer = every_route_app.test_client().get("/_boom")
    assert answer.status_code == 500
    _assert_headers(answer, "/_boom", "GET")
