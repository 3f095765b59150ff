"""A throwaway RSA key and self-signed certificate for the fake connected app.

Generated at run time (tests, demo, benchmark), never stored: the connector signs its JWT
bearer assertion with the key, the fake Salesforce verifies it with the certificate, as a
real org verifies it with the certificate uploaded to the connected app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class KeyPair:
    private_key_pem: str
    certificate_pem: str

    def __repr__(self) -> str:
        return "KeyPair(<generated>)"


def generate_key_pair(common_name: str = "connector-test") -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    return KeyPair(private_pem, cert.public_bytes(serialization.Encoding.PEM).decode())
