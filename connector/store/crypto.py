"""Encryption of CRM credentials at rest (OAuth tokens), keyed by ``CONNECTOR_SECRET_KEY``.

The Fernet key (AES-128-CBC + HMAC-SHA256) is derived with HKDF-SHA256 from the secret,
with a purpose label, so the same secret used elsewhere (or a secret that is not already
32 url-safe base64 bytes) never becomes the cipher key directly. HKDF suits a random,
high-entropy secret, which is what ``CONNECTOR_SECRET_KEY`` must be (the README says how to
make one); it is not a password hash.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT = b"crm-lead-connector/credentials/v1"
MIN_SECRET_LENGTH = 16


class CredentialError(RuntimeError):
    """A stored credential cannot be decrypted (wrong or rotated CONNECTOR_SECRET_KEY)."""


def derive_key(secret: str, purpose: bytes = b"hubspot-tokens") -> bytes:
    """The url-safe base64 Fernet key for ``purpose`` derived from ``secret``."""
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"CONNECTOR_SECRET_KEY must be at least {MIN_SECRET_LENGTH} "
                         "characters")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT,
               info=purpose).derive(secret.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


class TokenCipher:
    """Encrypts and decrypts short secrets for one purpose; never logs them."""

    def __init__(self, secret: str, purpose: bytes = b"hubspot-tokens") -> None:
        self._fernet = Fernet(derive_key(secret, purpose))

    def __repr__(self) -> str:
        return "TokenCipher(<key hidden>)"

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            raise CredentialError("a stored credential could not be decrypted; was "
                                  "CONNECTOR_SECRET_KEY changed?") from None
