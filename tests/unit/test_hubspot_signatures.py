"""HubSpot webhook signature checks against HubSpot's published examples and the algorithm.

v1/v2 vectors are the examples on HubSpot's "Validating requests" pages. HubSpot publishes
no v3 example, so v3 is checked against a hand-computed HMAC and against the official SDK's
``hubspot.utils.signature.Signature`` implementation.
"""

import base64
import hashlib
import hmac

import pytest
from hubspot.utils.signature import Signature

from adapters.hubspot.signatures import (
    decode_uri,
    public_uri,
    sign_v1,
    sign_v2,
    sign_v3,
    verify_request,
    verify_v3,
)
from connector.core.errors import SignatureInvalid

DOC_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
DOC_V1_BODY = (
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    '"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
    '"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
)
NOW_MS = 1_700_000_000_000
URI = "https://connector.example.com/webhooks/hubspot"


def test_v1_matches_hubspot_documented_example():
    expected = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    assert sign_v1(DOC_SECRET, DOC_V1_BODY) == expected
    headers = {"X-HubSpot-Signature": expected, "X-HubSpot-Signature-Version": "v1"}
    assert verify_request(client_secret=DOC_SECRET, method="POST", uri=URI,
                          body=DOC_V1_BODY.encode(), headers=headers,
                          versions=("v3", "v1")) == "v1"


@pytest.mark.parametrize(("method", "body", "expected"), [
    ("GET", "", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"),
    ("POST", '{"example_field":"example_value"}',
     "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"),
])
def test_v2_matches_hubspot_documented_examples(method, body, expected):
    uri = "https://www.example.com/webhook_uri"
    assert sign_v2(DOC_SECRET, method, uri, body) == expected
    headers = {"x-hubspot-signature": expected, "x-hubspot-signature-version": "v2"}
    assert verify_request(client_secret=DOC_SECRET, method=method, uri=uri, body=body,
                          headers=headers, versions=("v3", "v2")) == "v2"


def test_v3_is_base64_hmac_of_method_uri_body_timestamp():
    body = b'[{"eventId":1}]'
    source = b"POST" + URI.encode() + body + str(NOW_MS).encode()
    expected = base64.b64encode(hmac.new(b"s3cret", source, hashlib.sha256).digest()).decode()
    assert sign_v3("s3cret", "POST", URI, body, NOW_MS) == expected


def test_v3_agrees_with_official_sdk_implementation():
    body = '[{"eventId":7,"objectId":1}]'
    ours = sign_v3("s3cret", "POST", URI, body, NOW_MS)
    sdk = Signature.get_signature("s3cret", body, "v3", http_uri=URI, http_method="POST",
                                  timestamp=str(NOW_MS))
    assert ours == sdk


def _v3_headers(body: bytes, uri: str = URI, ts: int = NOW_MS, secret: str = "s3cret"):
    return {"X-HubSpot-Signature-v3": sign_v3(secret, "POST", uri, body, ts),
            "X-HubSpot-Request-Timestamp": str(ts)}


def test_v3_valid_request_verifies():
    body = b'[{"eventId":1}]'
    assert verify_request(client_secret="s3cret", method="POST", uri=URI, body=body,
                          headers=_v3_headers(body), now_ms=NOW_MS) == "v3"


def test_v3_tampered_body_rejected():
    headers = _v3_headers(b'[{"objectId":1}]')
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify_request(client_secret="s3cret", method="POST", uri=URI,
                       body=b'[{"objectId":2}]', headers=headers, now_ms=NOW_MS)


def test_v3_wrong_secret_rejected_and_secret_not_in_message():
    body = b"[]"
    with pytest.raises(SignatureInvalid) as info:
        verify_request(client_secret="right-secret", method="POST", uri=URI, body=body,
                       headers=_v3_headers(body, secret="wrong-secret"), now_ms=NOW_MS)
    assert "right-secret" not in str(info.value)


@pytest.mark.parametrize(("offset_ms", "reason"), [
    (-(5 * 60 * 1000 + 1), "older than 5 minutes"),
    (5 * 60 * 1000 + 1, "in the future"),
])
def test_v3_stale_or_future_timestamp_rejected(offset_ms, reason):
    body = b"[]"
    ts = NOW_MS + offset_ms
    with pytest.raises(SignatureInvalid, match=reason):
        verify_v3(client_secret="s3cret", method="POST", uri=URI, body=body,
                  signature=sign_v3("s3cret", "POST", URI, body, ts), timestamp=str(ts),
                  now_ms=NOW_MS)


def test_v3_timestamp_within_window_accepted():
    body = b"[]"
    ts = NOW_MS - 4 * 60 * 1000
    verify_v3(client_secret="s3cret", method="POST", uri=URI, body=body,
              signature=sign_v3("s3cret", "POST", URI, body, ts), timestamp=str(ts),
              now_ms=NOW_MS)


def test_v3_missing_headers_rejected():
    with pytest.raises(SignatureInvalid, match="X-HubSpot-Request-Timestamp"):
        verify_v3(client_secret="s", method="POST", uri=URI, body=b"", signature="abc",
                  timestamp=None, now_ms=NOW_MS)
    with pytest.raises(SignatureInvalid, match="not an integer"):
        verify_v3(client_secret="s", method="POST", uri=URI, body=b"", signature="abc",
                  timestamp="soon", now_ms=NOW_MS)


def test_v3_failure_is_not_rescued_by_valid_v1():
    body = DOC_V1_BODY.encode()
    headers = {"X-HubSpot-Signature-v3": "bm9wZQ==", "X-HubSpot-Request-Timestamp": str(NOW_MS),
               "X-HubSpot-Signature": sign_v1(DOC_SECRET, body),
               "X-HubSpot-Signature-Version": "v1"}
    with pytest.raises(SignatureInvalid):
        verify_request(client_secret=DOC_SECRET, method="POST", uri=URI, body=body,
                       headers=headers, now_ms=NOW_MS, versions=("v3", "v2", "v1"))


def test_by_default_only_v3_is_accepted_so_a_stripped_request_cannot_be_replayed():
    """A captured delivery carries v3 and v1; without its v3 headers (and so without its
    timestamp) the still-valid v1 signature must not let it in."""
    body = DOC_V1_BODY.encode()
    headers = {"X-HubSpot-Signature": sign_v1(DOC_SECRET, body),
               "X-HubSpot-Signature-Version": "v1"}
    with pytest.raises(SignatureInvalid, match="missing X-HubSpot-Signature-v3"):
        verify_request(client_secret=DOC_SECRET, method="POST", uri=URI, body=body,
                       headers=headers)
    with pytest.raises(SignatureInvalid, match="v1 signatures are not accepted"):
        verify_request(client_secret=DOC_SECRET, method="POST", uri=URI, body=body,
                       headers=headers, versions=("v3", "v2"))
    assert verify_request(client_secret=DOC_SECRET, method="POST", uri=URI, body=body,
                          headers=headers, versions=("v3", "v1")) == "v1"


def test_a_present_v3_header_decides_even_when_legacy_is_accepted():
    body = DOC_V1_BODY.encode()
    stale = NOW_MS - 10 * 60 * 1000
    headers = {"X-HubSpot-Signature-v3": sign_v3(DOC_SECRET, "POST", URI, body, stale),
               "X-HubSpot-Request-Timestamp": str(stale),
               "X-HubSpot-Signature": sign_v1(DOC_SECRET, body),
               "X-HubSpot-Signature-Version": "v1"}
    with pytest.raises(SignatureInvalid, match="older than 5 minutes"):
        verify_request(client_secret=DOC_SECRET, method="POST", uri=URI, body=body,
                       headers=headers, now_ms=NOW_MS, versions=("v3", "v2", "v1"))
    with pytest.raises(SignatureInvalid, match="v3 signatures are not accepted"):
        verify_request(client_secret=DOC_SECRET, method="POST", uri=URI, body=body,
                       headers=headers, now_ms=NOW_MS, versions=("v1",))


def test_unknown_legacy_version_rejected():
    with pytest.raises(SignatureInvalid, match="unsupported"):
        verify_request(client_secret="s", method="POST", uri=URI, body=b"",
                       headers={"X-HubSpot-Signature": "x", "X-HubSpot-Signature-Version": "v9"},
                       versions=("v3", "v1"))


def test_decode_uri_decodes_only_the_documented_escapes():
    encoded = "https://h.example/p%3Aa%2Fb%3Fc%40d%21e%24f%27g%28h%29i%2Aj%2Ck%3Bl?q=%20%26%3d"
    assert decode_uri(encoded) == "https://h.example/p:a/b?c@d!e$f'g(h)i*j,k;l?q=%20%26%3d"
    assert decode_uri("x%3a%2f") == "x:/"


def test_v3_signature_over_decoded_uri_verifies_encoded_request_uri():
    # HubSpot signs the decoded form; the request line we see still holds the escapes.
    decoded = "https://connector.example.com/webhooks/hubspot?portal=a:b@c"
    encoded = "https://connector.example.com/webhooks/hubspot?portal=a%3Ab%40c"
    body = b"[]"
    source = b"POST" + decoded.encode() + body + str(NOW_MS).encode()
    sig = base64.b64encode(hmac.new(b"s3cret", source, hashlib.sha256).digest()).decode()
    verify_v3(client_secret="s3cret", method="POST", uri=encoded, body=body, signature=sig,
              timestamp=str(NOW_MS), now_ms=NOW_MS)


def test_public_uri_uses_the_public_base_behind_a_proxy():
    assert public_uri("https://connector.example.com/", "/webhooks/hubspot", b"a=1&b=2") == \
        "https://connector.example.com/webhooks/hubspot?a=1&b=2"
    assert public_uri("https://connector.example.com", "webhooks/hubspot") == \
        "https://connector.example.com/webhooks/hubspot"
