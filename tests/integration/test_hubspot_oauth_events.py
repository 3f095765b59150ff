"""OAuth install against the fake HubSpot, encrypted tokens at rest, and the events API."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from adapters.hubspot.fake_server import FakeHubSpot
from connector.bootstrap import bootstrap
from connector.cli import main
from connector.jobs import inbox
from connector.service.hubspot_owner_sync import FailedSync, schedule_retries
from connector.store import sources_repo
from connector.store.crypto import CredentialError, TokenCipher, derive_key
from connector.store.models import HubSpotPortalRow
from connector.web import create_app
from tests.conftest import auth


def test_cipher_round_trip_and_wrong_key():
    cipher = TokenCipher("a" * 32)
    sealed = cipher.encrypt("secret-token")
    assert "secret-token" not in sealed and cipher.decrypt(sealed) == "secret-token"
    with pytest.raises(CredentialError):
        TokenCipher("b" * 32).decrypt(sealed)
    assert derive_key("a" * 32) != derive_key("a" * 32, b"other purpose")
    with pytest.raises(ValueError):
        TokenCipher("short")


@pytest.fixture
def fake():
    with FakeHubSpot() as hs:
        yield hs


def test_install_and_callback_store_encrypted_tokens_per_portal(config, fake, make_account):
    c = bootstrap(dataclasses.replace(
        config, hubspot_client_id=fake.client_id, hubspot_client_secret=fake.client_secret,
        public_url="https://connector.example.com", hubspot_api_base=fake.url))
    try:
        client = create_app(container=c).test_client()
        account_id = make_account()
        response = client.get("/oauth/hubspot/install", headers=auth(account_id))
        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        query = parse_qs(location.query)
        assert location.path == "/oauth/authorize"
        assert query["redirect_uri"] == ["https://connector.example.com/oauth/hubspot/callback"]

        assert client.get("/oauth/hubspot/callback?code=x&state=forged").status_code == 400
        denied = client.get("/oauth/hubspot/callback?error=access_denied")
        assert denied.status_code == 400 and "access_denied" in denied.get_json()["message"]
        as_bearer = {"Authorization": f"Bearer {query['state'][0]}"}
        assert client.get("/account", headers=as_bearer).status_code == 401
        code = fake.issue_auth_code()
        done = client.get(f"/oauth/hubspot/callback?code={code}&state={query['state'][0]}")
        assert done.status_code == 200, done.get_json()
        assert done.get_json() == {"portal_id": str(fake.portal_id),
                                   "account_id": account_id, "connected": True}
        with c.db.session() as session:
            row = session.get(HubSpotPortalRow, str(fake.portal_id))
            assert sources_repo.account_for(session, "hubspot", str(fake.portal_id)) \
                == account_id
            assert row.access_token_enc and "access-" not in row.access_token_enc
        hubspot = c.extras["hubspot"]
        fake.add_owner("ana@example.com")
        crm = hubspot.portals.client_for(str(fake.portal_id))
        assert crm.owner_id_for_email("ana@example.com") is not None  # token works

        other = make_account("Other")
        state = parse_qs(urlsplit(client.get("/oauth/hubspot/install", headers=auth(
            other)).headers["Location"]).query)["state"][0]
        taken = client.get(f"/oauth/hubspot/callback?code={fake.issue_auth_code()}"
                           f"&state={state}")
        assert taken.status_code == 409 and "another account" in taken.get_json()["message"]

        first = row.access_token_enc
        cipher = hubspot.portals._cipher
        fake.expire_token(cipher.decrypt(first))  # revoked: the next call gets a 401
        crm.refresh_owners()
        with c.db.session() as session:
            renewed = session.get(HubSpotPortalRow, str(fake.portal_id)).access_token_enc
        assert renewed != first and cipher.decrypt(renewed).startswith("access-")
    finally:
        c.close()


def test_install_needs_configuration(client, headers):
    response = client.get("/oauth/hubspot/install", headers=headers)
    assert response.status_code == 503
    assert "HUBSPOT_CLIENT_ID" in response.get_json()["message"]


@pytest.fixture
def failed_sync(container, account_id):
    container.extras["hubspot"].portals.connect("62515", account_id)
    schedule_retries(container.db, "62515", [FailedSync("d-1", "contact", "42", "boom")])
    with container.db.session() as session:
        from connector.store.models import InboxEventRow

        return session.scalars(select(InboxEventRow.id)).one()


def test_events_api_lists_and_replays_failed_syncs(client, headers, failed_sync, container,
                                                   make_account):
    listed = client.get("/events?status=failed", headers=headers).get_json()["results"]
    assert [(e["id"], e["kind"], e["error"]) for e in listed] == [
        (failed_sync, "hubspot_owner_sync", "boom")]
    stranger = auth(make_account("Other"))
    assert client.get("/events?status=failed", headers=stranger).get_json()["results"] == []
    assert client.post(f"/events/{failed_sync}/replay", headers=stranger).status_code == 404
    assert client.get("/events?status=weird", headers=headers).status_code == 400
    assert client.post("/events/replay", json={}, headers=headers).status_code == 400

    assert client.post(f"/events/{failed_sync}/replay", headers=headers).get_json() == {
        "replayed": 1}
    assert inbox.counts(container.db) == {"pending": 1}
    assert client.post(f"/events/{failed_sync}/replay", headers=headers).status_code == 409
    inbox.fail(container.db, failed_sync, "again", retryable=False)
    assert client.post("/events/replay", json={"all_failed": True},
                       headers=auth(None, admin=True)).get_json() == {"replayed": 1}


def test_cli_lists_and_replays_failed_syncs(failed_sync, config, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    runner = CliRunner()
    out = runner.invoke(main, ["events", "list", "--failed"])
    assert out.exit_code == 0 and failed_sync in out.output
    assert "hubspot_owner_sync" in out.output
    out = runner.invoke(main, ["events", "replay", "--all-failed"])
    assert out.exit_code == 0 and "1 event(s) queued again" in out.output


def test_a_too_short_secret_key_fails_at_start_naming_it(config):
    from connector.config import ConfigError

    with pytest.raises(ConfigError, match="CONNECTOR_SECRET_KEY"):
        bootstrap(dataclasses.replace(config, secret_key="short"))


def test_cli_connects_a_portal_to_an_account(config, account_id, container, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    runner = CliRunner()
    out = runner.invoke(main, ["hubspot", "connect", "--portal", "777", "--account",
                               account_id])
    assert out.exit_code == 0, out.output
    assert container.extras["hubspot"].portals.account_for("777") == account_id
    missing = runner.invoke(main, ["hubspot", "connect", "--portal", "1", "--account", "no"])
    assert missing.exit_code != 0 and "no account with id no" in missing.output


def test_an_oauth_installed_portal_can_read_and_write_every_mapped_object_type(
        config, fake, make_account):
    """The install asks for the scopes of every mapped object type; the fake grants exactly
    those and answers 403 MISSING_SCOPES to anything else, as HubSpot does."""
    from adapters.hubspot.auth import StaticToken
    from adapters.hubspot.client import HubSpotClient
    from connector.core.errors import PermanentCrmError
    from connector.core.ports import OwnerWrite

    c = bootstrap(dataclasses.replace(
        config, hubspot_client_id=fake.client_id, hubspot_client_secret=fake.client_secret,
        public_url="https://connector.example.com", hubspot_api_base=fake.url))
    try:
        client = create_app(container=c).test_client()
        account_id = make_account()
        location = client.get("/oauth/hubspot/install",
                              headers=auth(account_id)).headers["Location"]
        requested = set(parse_qs(urlsplit(location).query)["scope"][0].split())
        assert {"crm.objects.companies.write", "crm.objects.deals.read", "tickets",
                "crm.objects.owners.read"} <= requested
        state = parse_qs(urlsplit(location).query)["state"][0]
        done = client.get(f"/oauth/hubspot/callback?code={fake.authorize(location)}"
                          f"&state={state}")
        assert done.status_code == 200, done.get_json()

        owner = fake.add_owner("ana@example.com")
        crm = c.extras["hubspot"].portals.client_for(str(fake.portal_id))
        assert crm.owner_id_for_email("ana@example.com") == owner
        for object_type in ("companies", "deals", "tickets", "contacts"):
            rid = fake.create_object(object_type, {"name": "x"})
            assert rid in crm.read_records(object_type, [rid], ["name"])
            [result] = crm.write_owners([OwnerWrite(object_type, rid, owner)])
            assert result.ok, result.error
            assert fake.owner_of(object_type, rid) == owner
    finally:
        c.close()

    # a token without those scopes is refused the way HubSpot refuses it
    from adapters.hubspot.auth import OAuthTokens

    narrow = OAuthTokens(fake.client_id, fake.client_secret, "https://app.example/cb",
                         base_url=fake.url)
    narrow.exchange_code(fake.issue_auth_code(["crm.objects.contacts.read",
                                               "crm.objects.contacts.write"]))
    limited = HubSpotClient(narrow, base_url=fake.url)
    deal = fake.create_object("deals", {"dealname": "d"})
    with pytest.raises(PermanentCrmError) as info:
        limited.read_records("deals", [deal], [])
    assert info.value.status == 403 and info.value.code == "MISSING_SCOPES"
    # the private-app token of the fake is not scope-limited
    assert deal in HubSpotClient(StaticToken(fake.token), base_url=fake.url).read_records(
        "deals", [deal], [])


@pytest.mark.parametrize("public_url", ["https://connector.example.com",
                                        "https://connector.example.com:8443"])
def test_the_install_redirect_uri_must_be_the_apps_registered_redirect_url(
        config, make_account, public_url):
    """HubSpot compares the install's ``redirect_uri`` with the app's redirect URLs exactly
    (the one ``connector hubspot project`` writes), and the exchange must repeat it."""
    registered = "https://connector.example.com/oauth/hubspot/callback"
    with FakeHubSpot(redirect_urls=[registered]) as fake:
        c = bootstrap(dataclasses.replace(
            config, hubspot_client_id=fake.client_id, hubspot_client_secret=fake.client_secret,
            public_url=public_url, hubspot_api_base=fake.url))
        try:
            client = create_app(container=c).test_client()
            location = client.get("/oauth/hubspot/install",
                                  headers=auth(make_account())).headers["Location"]
            if public_url + "/oauth/hubspot/callback" != registered:
                with pytest.raises(ValueError, match="doesn't match the app's registered"):
                    fake.authorize(location)
                return
            state = parse_qs(urlsplit(location).query)["state"][0]
            done = client.get(f"/oauth/hubspot/callback?code={fake.authorize(location)}"
                              f"&state={state}")
            assert done.status_code == 200, done.get_json()
            assert fake.calls["POST /oauth/v1/token"] == 1
        finally:
            c.close()
