"""Verify the signatures HubSpot puts on webhook requests (and sign requests like HubSpot).

HubSpot documents three versions (developers.hubspot.com, "Validating requests"):

* v3, header ``X-HubSpot-Signature-v3``: base64(HMAC-SHA256(client_secret,
  method + uri + body + timestamp)), timestamp from ``X-HubSpot-Request-Timestamp`` in
  milliseconds. Requests older than 5 minutes must be rejected; we also reject timestamps
  more than 5 minutes in the future, so a captured request cannot be replayed later.
  Before hashing, these percent-escapes in the URI are decoded, and only these:
  ``%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B``.
* v2 (``X-HubSpot-Signature-Version: v2``): hex SHA-256 of client_secret + method + uri + body.
* v1 (``X-HubSpot-Signature-Version: v1``): hex SHA-256 of client_secret + body. HubSpot
  still sends v1 with CRM webhook batches.

The URI is the one HubSpot called, which behind a proxy is not what the WSGI server sees,
so callers pass their public base URL (``https://connector.example.com``) and we rebuild the
URI from it and the request's path and raw query string.

The ``hubspot-api-client`` SDK has ``hubspot.utils.signature.Signature`` doing the hashing,
but it does not decode the URI, only checks staleness in one direction and raises its own
exception types, so the check lives here; the tests cross-check our hashes against it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Collection, Mapping

from connector.core.errors import SignatureInvalid

V3_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
LEGACY_HEADER = "X-HubSpot-Signature"
VERSION_HEADER = "X-HubSpot-Signature-Version"
MAX_SKEW_MS = 5 * 60 * 1000

_DECODED = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}
_ESCAPE_RE = re.compile("|".join(_DECODED), re.IGNORECASE)


def decode_uri(uri: str) -> str:
    """Decode exactly the percent-escapes HubSpot decodes before signing with v3."""
    return _ESCAPE_RE.sub(lambda m: _DECODED[m.group(0).upper()], uri)


def public_uri(public_base_url: str, path: str, query_string: str | bytes = "") -> str:
    """The URI HubSpot called: public base URL + request path + raw query string."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    uri = public_base_url.rstrip("/") + "/" + path.lstrip("/")
    return f"{uri}?{query_string}" if query_string else uri


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def sign_v3(
    client_secret: str, method: str, uri: str, body: bytes | str, timestamp_ms: int | str
) -> str:
    """The ``X-HubSpot-Signature-v3`` value HubSpot would send for this request."""
    message = (
        method.upper().encode("utf-8")
        + decode_uri(uri).encode("utf-8")
        + _as_bytes(body)
        + str(timestamp_ms).encode("utf-8")
    )
    digest = hmac.new(client_secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_v2(client_secret: str, method: str, uri: str, body: bytes | str) -> str:
    """The v2 ``X-HubSpot-Signature`` value (hex SHA-256 of secret + method + uri + body)."""
    source = client_secret.encode("utf-8") + method.upper().encode("utf-8")
    return hashlib.sha256(source + uri.encode("utf-8") + _as_bytes(body)).hexdigest()


def sign_v1(client_secret: str, body: bytes | str) -> str:
    """The v1 ``X-HubSpot-Signature`` value (hex SHA-256 of secret + body)."""
    return hashlib.sha256(client_secret.encode("utf-8") + _as_bytes(body)).hexdigest()


def verify_v3(
    *,
    client_secret: str,
    method: str,
    uri: str,
    body: bytes | str,
    signature: str | None,
    timestamp: str | None,
    now_ms: int | None = None,
    max_skew_ms: int = MAX_SKEW_MS,
) -> None:
    """Raise :class:`SignatureInvalid` unless the v3 signature and timestamp check out."""
    if not signature:
        raise SignatureInvalid(f"missing {V3_HEADER} header")
    if not timestamp:
        raise SignatureInvalid(f"missing {TIMESTAMP_HEADER} header")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureInvalid(f"{TIMESTAMP_HEADER} is not an integer") from None
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if now - ts > max_skew_ms:
        raise SignatureInvalid("request timestamp is older than 5 minutes")
    if ts - now > max_skew_ms:
        raise SignatureInvalid("request timestamp is more than 5 minutes in the future")
    expected = sign_v3(client_secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8")):
        raise SignatureInvalid("v3 signature does not match")


def verify_legacy(
    *,
    client_secret: str,
    version: str | None,
    method: str,
    uri: str,
    body: bytes | str,
    signature: str | None,
) -> None:
    """Check a v1 or v2 ``X-HubSpot-Signature`` (no timestamp: these can be replayed)."""
    if not signature:
        raise SignatureInvalid(f"missing {LEGACY_HEADER} header")
    version = (version or "").strip().lower()
    if version == "v1":
        expected = sign_v1(client_secret, body)
    elif version == "v2":
        expected = sign_v2(client_secret, method, uri, body)
    else:
        raise SignatureInvalid(f"unsupported {VERSION_HEADER}: {version or 'missing'!r}")
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode()):
        raise SignatureInvalid(f"{version} signature does not match")


#: Versions HubSpot signs with; ``HUBSPOT_SIGNATURE_VERSIONS`` picks which are accepted.
KNOWN_VERSIONS = ("v3", "v2", "v1")
#: v3 only: HubSpot puts it on every webhook delivery (with v1 or v2 for backward
#: compatibility), and v1/v2 carry no timestamp, so a captured request stripped of its v3
#: header could otherwise be replayed forever.
DEFAULT_VERSIONS = ("v3",)


def verify_request(
    *,
    client_secret: str,
    method: str,
    uri: str,
    body: bytes | str,
    headers: Mapping[str, str],
    versions: Collection[str] = DEFAULT_VERSIONS,
    now_ms: int | None = None,
) -> str:
    """Verify a HubSpot request from its headers; return the version that verified.

    Only ``versions`` are accepted. Whenever the v3 header is present v3 decides: a failing
    (or not accepted) v3 is never rescued by v1/v2. Without it, a v1/v2 signature counts
    only if its version is in ``versions``.
    """
    accepted = {v.strip().lower() for v in versions}
    lower = {k.lower(): v for k, v in headers.items()}
    if V3_HEADER.lower() in lower:
        if "v3" not in accepted:
            raise SignatureInvalid("v3 signatures are not accepted by this connector")
        verify_v3(
            client_secret=client_secret, method=method, uri=uri, body=body,
            signature=lower.get(V3_HEADER.lower()), timestamp=lower.get(TIMESTAMP_HEADER.lower()),
            now_ms=now_ms,
        )
        return "v3"
    version = (lower.get(VERSION_HEADER.lower()) or "").strip().lower()
    if not accepted - {"v3"}:
        raise SignatureInvalid(f"missing {V3_HEADER} header")
    if version in KNOWN_VERSIONS and version not in accepted:
        raise SignatureInvalid(f"missing {V3_HEADER} header ({version} signatures are not "
                               "accepted)")
    verify_legacy(
        client_secret=client_secret, version=version, method=method, uri=uri, body=body,
        signature=lower.get(LEGACY_HEADER.lower()),
    )
    return version
