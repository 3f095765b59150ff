"""``X-Connector-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.

The scheme signs the exact bytes received together with the time of signing, so a body
cannot be altered and an old request cannot be replayed beyond the tolerance. Several
``v1`` values may be sent (while a secret is being rotated); one match is enough.
"""

from __future__ import annotations

import hashlib
import hmac

from .errors import SignatureInvalid

HEADER = "X-Connector-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str | None, body: bytes, now: float,
           tolerance: int = TOLERANCE_SECONDS) -> int:
    """Return the signed timestamp, or raise SignatureInvalid saying what is wrong."""
    if not header:
        raise SignatureInvalid(f"missing {HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureInvalid("signature timestamp is not a number") from None
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureInvalid(f"{HEADER} must be t=<unix seconds>,v1=<hex>")
    if abs(now - timestamp) > tolerance:
        raise SignatureInvalid("signature timestamp is outside the 5-minute tolerance")
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise SignatureInvalid("signature does not match")
    return timestamp
