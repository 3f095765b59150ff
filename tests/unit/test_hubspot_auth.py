from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from adapters.hubspot.auth import OAuthTokens, StaticToken, TokenSet
from connector.core.errors import AuthenticationFailed, TransientCrmError

TOKEN_URL = "https://api.test/oauth/v1/token"


class Clock:
    now = 10_000.0

    def __call__(self):
        return self.now


def oauth(saved=None, tokens=None, clock=None):
    return OAuthTokens("cid", "csecret", "https://app.example/oauth/callback",
                       base_url="https://api.test", tokens=tokens,
                       on_tokens=(saved.append if saved is not None else None),
                       clock=clock or Clock(), refresh_margin=300)


def test_install_url_has_documented_parameters():
    url = oauth().install_url(["crm.objects.contacts.read", "crm.objects.contacts.write"],
                              state="xyz", optional_scopes=["tickets"])
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "app.hubspot.com",
                                                        "/oauth/authorize")
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {"client_id": "cid",
                 "scope": "crm.objects.contacts.read crm.objects.contacts.write",
                 "redirect_uri": "https://app.example/oauth/callback", "state": "xyz",
                 "optional_scope": "tickets"}


@responses.activate
def test_exchange_code_posts_form_and_persists_tokens():
    responses.add(responses.POST, TOKEN_URL, json={
        "token_type": "bearer", "access_token": "AT1", "refresh_token": "RT1",
        "expires_in": 1800})
    saved = []
    clock = Clock()
    provider = oauth(saved, clock=clock)
    tokens = provider.exchange_code("the-code")
    form = {k: v[0] for k, v in parse_qs(responses.calls[0].request.body).items()}
    assert form == {"grant_type": "authorization_code", "code": "the-code", "client_id": "cid",
                    "client_secret": "csecret",
                    "redirect_uri": "https://app.example/oauth/callback"}
    assert tokens.expires_at == clock.now + 1800 and saved == [tokens]
    assert provider.access_token() == "AT1"
    assert "AT1" not in repr(tokens) and "RT1" not in repr(tokens)
    assert "csecret" not in repr(provider)


@responses.activate
def test_refreshes_before_expiry_within_margin():
    responses.add(responses.POST, TOKEN_URL, json={"access_token": "AT2", "refresh_token": "RT1",
                                                   "expires_in": 1800})
    clock = Clock()
    saved = []
    provider = oauth(saved, TokenSet("AT1", "RT1", clock.now + 1000), clock)
    assert provider.access_token() == "AT1"  # 1000 s left > 300 s margin
    clock.now += 701
    assert provider.access_token() == "AT2"
    form = parse_qs(responses.calls[0].request.body)
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == ["RT1"]
    assert [t.access_token for t in saved] == ["AT2"]


@responses.activate
def test_refresh_keeps_refresh_token_when_response_omits_it():
    responses.add(responses.POST, TOKEN_URL, json={"access_token": "AT2", "expires_in": 1800})
    provider = oauth(tokens=TokenSet("AT1", "RT1", 0))
    assert provider.refresh() is True
    assert provider.tokens.refresh_token == "RT1"


@responses.activate
def test_bad_refresh_token_is_authentication_failure():
    responses.add(responses.POST, TOKEN_URL, status=400, json={
        "status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"})
    with pytest.raises(AuthenticationFailed) as info:
        oauth(tokens=TokenSet("AT1", "RT1", 0)).access_token()
    assert info.value.code == "BAD_REFRESH_TOKEN" and "RT1" not in str(info.value)


@responses.activate
def test_token_endpoint_outage_is_transient():
    responses.add(responses.POST, TOKEN_URL, status=503)
    with pytest.raises(TransientCrmError):
        oauth(tokens=TokenSet("AT1", "RT1", 0)).refresh()


def test_not_installed_and_static_token():
    with pytest.raises(AuthenticationFailed, match="not installed"):
        oauth().access_token()
    assert oauth().refresh() is False
    static = StaticToken("pat-123")
    assert static.access_token() == "pat-123" and static.refresh() is False
    with pytest.raises(ValueError):
        StaticToken("")


def test_install_scopes_follow_the_object_types_and_tickets_use_the_tickets_scope():
    from adapters.hubspot.scopes import required_scope, scopes_for

    assert scopes_for(["contact", "0-5"]) == (
        "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.owners.read",
        "tickets")
    assert "crm.objects.deals.write" in scopes_for(["deals", "company"])
    assert required_scope("POST", "/crm/v3/objects/companies/batch/read") == \
        "crm.objects.companies.read"
    assert required_scope("POST", "/crm/v3/objects/deals/batch/update") == \
        "crm.objects.deals.write"
    assert required_scope("GET", "/crm/v3/owners") == "crm.objects.owners.read"
