"""JWT bearer flow: the assertion's claims and signature, caching, renewal."""

from __future__ import annotations

from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.x509 import load_pem_x509_certificate

from adapters.salesforce.auth import (
    GRANT_TYPE,
    JwtBearerAuth,
    default_audience,
    load_private_key,
)
from adapters.salesforce.fake_keys import generate_key_pair
from connector.core.errors import AuthenticationFailed, TransientCrmError

LOGIN = "https://login.example.test"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"


@pytest.fixture(scope="module")
def keys():
    return generate_key_pair()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make(keys, clock=None, **kw) -> JwtBearerAuth:
    return JwtBearerAuth(login_url=LOGIN, client_id="consumer-key", username="int@example.com",
                         private_key=keys.private_key_pem, clock=clock or Clock(), **kw)


def ok(token: str = "tok-1") -> dict:
    return {"access_token": token, "instance_url": "https://acme.my.salesforce.com",
            "token_type": "Bearer", "scope": "api interaction_api"}


@responses.activate
def test_login_posts_a_signed_assertion_the_certificate_verifies(keys):
    responses.post(TOKEN_URL, json=ok())
    auth = make(keys)

    token = auth.token()

    form = {k: v[0] for k, v in parse_qs(responses.calls[0].request.body).items()}
    assert form["grant_type"] == GRANT_TYPE
    public = load_pem_x509_certificate(keys.certificate_pem.encode()).public_key()
    claims = jwt.decode(form["assertion"], public, algorithms=["RS256"],
                        audience="https://login.salesforce.com", options={"verify_exp": False})
    assert (claims["iss"], claims["sub"], claims["aud"]) == \
        ("consumer-key", "int@example.com", "https://login.salesforce.com")
    assert claims["exp"] == 1_800_000_000 + 180
    assert (token.value, token.instance_url) == ("tok-1", "https://acme.my.salesforce.com")


@responses.activate
def test_token_is_cached_and_renewed_before_it_expires(keys):
    responses.post(TOKEN_URL, json=ok("tok-1"))
    responses.post(TOKEN_URL, json=ok("tok-2"))
    clock = Clock()
    auth = make(keys, clock, session_seconds=900, renew_margin=60)

    assert auth.access_token() == "tok-1"
    clock.now += 800
    assert auth.access_token() == "tok-1"
    clock.now += 50  # within the renewal margin
    assert auth.access_token() == "tok-2"
    assert auth.logins == 2


@responses.activate
def test_renew_replaces_only_the_stale_token(keys):
    responses.post(TOKEN_URL, json=ok("tok-1"))
    responses.post(TOKEN_URL, json=ok("tok-2"))
    auth = make(keys)
    auth.token()

    auth.renew("tok-1")
    auth.renew("tok-1")  # a second caller with the same stale token: no new login

    assert auth.access_token() == "tok-2" and auth.logins == 2


@responses.activate
def test_refused_login_names_salesforces_reason(keys):
    responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant",
                                                "error_description": "user hasn't approved "
                                                                     "this consumer"})
    with pytest.raises(AuthenticationFailed, match="user hasn't approved this consumer"):
        make(keys).token()


@responses.activate
def test_server_error_on_login_is_transient(keys):
    responses.post(TOKEN_URL, status=503, body="down")
    with pytest.raises(TransientCrmError):
        make(keys).token()


def test_private_key_from_pem_or_path(keys, tmp_path):
    path = tmp_path / "key.pem"
    path.write_text(keys.private_key_pem)
    assert load_private_key(keys.private_key_pem) == keys.private_key_pem
    assert load_private_key(str(path)) == keys.private_key_pem
    with pytest.raises(ValueError, match="SALESFORCE_PRIVATE_KEY"):
        load_private_key(str(tmp_path / "missing.pem"))


def test_repr_shows_no_secret(keys):
    assert "PRIVATE" not in repr(make(keys)) and "PRIVATE" not in repr(keys)


@pytest.mark.parametrize("login_url,audience", [
    ("https://login.salesforce.com", "https://login.salesforce.com"),
    ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
    ("https://test.salesforce.com/", "https://test.salesforce.com"),
    ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
    ("https://acme.my.site.com/partners", "https://acme.my.site.com/partners"),
    ("http://127.0.0.1:8080", "https://login.salesforce.com"),
])
def test_the_audience_is_salesforces_not_the_url_the_assertion_is_posted_to(login_url,
                                                                           audience):
    assert default_audience(login_url) == audience


def test_an_explicit_audience_wins(keys):
    auth = make(keys, audience="https://acme.my.site.com")
    claims = jwt.decode(auth.assertion(), options={"verify_signature": False})
    assert claims["aud"] == "https://acme.my.site.com"


def test_an_audience_that_is_not_a_url_is_refused_naming_the_setting(keys):
    with pytest.raises(ValueError, match="SALESFORCE_JWT_AUDIENCE"):
        make(keys, audience="login.salesforce.com")
