"""The HubSpot install's ``state`` is bound to the browser that started it (a nonce
cookie, RFC 6749 section 10.12) and works once: a consent link sent to another company's
HubSpot admin connects nothing."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from adapters.hubspot.fake_server import FakeHubSpot
from connector.bootstrap import bootstrap
from connector.service.admin_users import create_admin
from connector.store.models import AccountSourceRow, HubSpotPortalRow
from connector.web import create_app
from connector.web.hubspot import NONCE_COOKIE
from tests.conftest import auth


@pytest.fixture
def fake():
    with FakeHubSpot() as hs:
        yield hs


@pytest.fixture
def oauth_app(config, fake):
    c = bootstrap(dataclasses.replace(
        config, hubspot_client_id=fake.client_id, hubspot_client_secret=fake.client_secret,
        public_url="https://connector.example.com", hubspot_api_base=fake.url))
    yield c, create_app(container=c)
    c.close()


def _start(client, account_id: str):
    response = client.get("/oauth/hubspot/install", headers=auth(account_id))
    assert response.status_code == 302
    location = response.headers["Location"]
    return response, location, parse_qs(urlsplit(location).query)["state"][0]


def _connected(container) -> tuple[int, int]:
    with container.db.session() as session:
        return (session.scalar(select(func.count()).select_from(HubSpotPortalRow)),
                session.scalar(select(func.count()).select_from(AccountSourceRow)))


def test_the_nonce_cookie_is_http_only_lax_secure_and_not_in_the_state(oauth_app,
                                                                       make_account):
    _, app = oauth_app
    response, location, state = _start(app.test_client(), make_account())
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{NONCE_COOKIE}=")
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/oauth/hubspot", "Max-Age=600"):
        assert flag in cookie
    nonce = cookie.split("=", 1)[1].split(";", 1)[0]
    assert len(nonce) >= 40 and nonce not in location


def test_a_consent_link_finished_in_another_browser_connects_nothing(oauth_app, fake,
                                                                     make_account):
    container, app = oauth_app
    _, location, state = _start(app.test_client(), make_account())
    victim = app.test_client()  # another company's HubSpot admin, who got the link
    answer = victim.get(f"/oauth/hubspot/callback?code={fake.authorize(location)}"
                        f"&state={state}")
    assert answer.status_code == 403
    assert answer.content_type.startswith("text/html")
    page = answer.get_data(as_text=True)
    assert "started in another browser" in page and "No HubSpot portal was connected" in page
    assert _connected(container) == (0, 0)
    assert fake.calls["POST /oauth/v1/token"] == 0  # the code was not even exchanged


def test_a_state_works_once(oauth_app, fake, make_account):
    container, app = oauth_app
    browser = app.test_client()
    account_id = make_account()
    _, location, state = _start(browser, account_id)
    nonce = browser.get_cookie(NONCE_COOKIE, path="/oauth/hubspot").value
    done = browser.get(f"/oauth/hubspot/callback?code={fake.authorize(location)}"
                       f"&state={state}")
    assert done.status_code == 200 and done.get_json()["connected"] is True
    assert browser.get_cookie(NONCE_COOKIE, path="/oauth/hubspot") is None  # spent
    exchanged = fake.calls["POST /oauth/v1/token"]

    replay = app.test_client()
    replay.set_cookie(NONCE_COOKIE, nonce, path="/oauth/hubspot")
    again = replay.get(f"/oauth/hubspot/callback?code={fake.issue_auth_code()}"
                       f"&state={state}")
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)
    assert fake.calls["POST /oauth/v1/token"] == exchanged
    assert _connected(container) == (1, 1)


def test_a_forged_or_expired_state_gets_a_page_saying_so(oauth_app, make_account):
    _, app = oauth_app
    client = app.test_client()
    _start(client, make_account())
    answer = client.get("/oauth/hubspot/callback?code=x&state=forged")
    assert answer.status_code == 400
    assert "Invalid query parameter &#39;state&#39;" in answer.get_data(as_text=True)


def test_a_signed_in_console_admin_starts_and_finishes_the_install_in_one_browser(
        oauth_app, fake, make_account):
    container, app = oauth_app
    account_id = make_account()
    create_admin(container.db, "ops@acme.example", account_id, "correct horse battery")
    browser = app.test_client()
    assert browser.get("/oauth/hubspot/install").status_code == 401
    page = browser.get("/admin/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    browser.post("/admin/login", data={"email": "ops@acme.example",
                                       "password": "correct horse battery",
                                       "csrf_token": token})
    started = browser.get("/oauth/hubspot/install")
    assert started.status_code == 302
    location = started.headers["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    done = browser.get(f"/oauth/hubspot/callback?code={fake.authorize(location)}"
                       f"&state={state}")
    assert done.status_code == 200
    assert done.get_json()["account_id"] == account_id


def test_an_account_deactivated_during_the_install_connects_nothing(oauth_app, fake,
                                                                    make_account):
    container, app = oauth_app
    browser = app.test_client()
    account_id = make_account()
    _, location, state = _start(browser, account_id)
    deactivated = app.test_client().patch(f"/accounts/{account_id}", json={"active": False},
                                          headers=auth(None, admin=True))
    assert deactivated.status_code == 200
    answer = browser.get(f"/oauth/hubspot/callback?code={fake.authorize(location)}"
                         f"&state={state}")
    assert answer.status_code == 403
    page = answer.get_data(as_text=True)
    assert "deactivated" in page and "No HubSpot portal was connected" in page
    assert _connected(container) == (0, 0)
    assert fake.calls["POST /oauth/v1/token"] == 0
