"""The console's doors: a deactivated account is locked out as it is of the API, the
browser is told not to run foreign script or frame the pages, and a throttled sign-in says
when to come back."""

from __future__ import annotations

import re

import pytest

from connector.web import create_app
from tests.admin.seed import PASSWORD, seed, sign_in
from tests.conftest import auth


@pytest.fixture
def seeded(container, client, make_account):
    return seed(container, client, make_account)


def _deactivate(client, account_id: str, active: bool = False) -> None:
    answer = client.patch(f"/accounts/{account_id}", json={"active": active},
                          headers=auth(None, admin=True))
    assert answer.status_code == 200, answer.get_json()


def test_sign_in_of_a_deactivated_account_is_refused_with_a_message(client, seeded):
    _deactivate(client, seeded.account_id)
    refused = sign_in(client, seeded.email)
    assert refused.status_code == 403
    assert "This account is deactivated" in refused.get_data(as_text=True)
    assert client.get("/admin/routers").status_code == 302
    wrong = sign_in(client, seeded.email, "not the password")
    assert wrong.status_code == 401  # the state of the account is only told to its admin
    assert "deactivated" not in wrong.get_data(as_text=True)
    _deactivate(client, seeded.account_id, active=True)
    assert sign_in(client, seeded.email).status_code == 302


def test_open_sessions_of_a_deactivated_account_end(client, seeded):
    assert sign_in(client, seeded.email).status_code == 302
    assert client.get("/admin/routers").status_code == 200
    _deactivate(client, seeded.account_id)
    answer = client.get("/admin/routers")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/admin/login")
    _deactivate(client, seeded.account_id, active=True)
    assert client.get("/admin/routers").status_code == 302  # it stays signed out


def test_console_pages_send_a_csp_without_inline_script_and_refuse_framing(client, seeded):
    sign_in(client, seeded.email)
    for path in ("/admin/login", "/admin/routers", "/admin/mappings", "/admin/events",
                 "/admin/decisions", f"/admin/routers/{seeded.router_id}"):
        page = client.get(path)
        assert page.status_code == 200, path
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"]
        html = page.get_data(as_text=True)
        inline = [s for s in re.findall(r"<script\b[^>]*>", html) if "src=" not in s]
        assert not inline, f"{path} has inline script {inline}"
        assert not re.search(r"\son[a-z]+\s*=", html), f"{path} has an inline handler"


def test_api_answers_carry_the_headers_too(client, headers):
    answer = client.get("/account", headers=headers)
    assert answer.headers["Content-Security-Policy"] == "default-src 'none'; " \
                                                        "frame-ancestors 'none'"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_throttled_sign_in_says_when_to_retry(client, seeded):
    for _ in range(5):
        sign_in(client, seeded.email, "guess")
    throttled = sign_in(client, seeded.email, PASSWORD)
    assert throttled.status_code == 429
    wait = int(throttled.headers["Retry-After"])
    assert 0 < wait <= 901
    assert f"Try again in {wait} seconds" in throttled.get_data(as_text=True)


def test_every_429_carries_retry_after(config):
    app = create_app(config)

    @app.get("/_limited")
    def _limited():
        return "slow down", 429

    assert app.test_client().get("/_limited").headers["Retry-After"] == "60"
    app.config["CONTAINER"].close()


def test_behind_a_trusted_tls_proxy_the_console_cookie_is_secure(config, seeded):
    from dataclasses import replace

    proxied = create_app(replace(config, trusted_proxies=1))
    client = proxied.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "connector.example",
                 "X-Forwarded-For": "203.0.113.9"}
    page = client.get("/admin/login", headers=forwarded)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
    assert "Secure" in page.headers["Set-Cookie"]
    answer = client.post("/admin/login", headers=forwarded,
                         data={"email": seeded.email, "password": PASSWORD,
                               "csrf_token": token})
    assert answer.status_code == 302
    assert "Secure" in answer.headers["Set-Cookie"]
    proxied.config["CONTAINER"].close()


def test_without_trusted_proxies_forwarded_headers_are_ignored(client, seeded):
    page = client.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in page.headers["Set-Cookie"]
