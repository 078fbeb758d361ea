"""RSA signing keys: creation, rotation, the JWKS document.

Private keys are stored encrypted with the service's master key. A rotated key stays in the
JWKS (and keeps validating tokens) until every token it signed has expired.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from hybridsync.cloud.certificates import self_signed
from hybridsync.cloud.db import Database, signing_keys

_TOKEN_SIGNING = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hybridsync token signing")])


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    created: dt.datetime
    retired: dt.datetime | None


class SigningKeys:
    """The tenant-independent key set (like Entra's: one JWKS for every tenant)."""

    def __init__(self, db: Database, master_key: SecretStr, token_lifetime: dt.timedelta) -> None:
        self._db = db
        self._master = master_key.get_secret_value().encode()
        self._lifetime = token_lifetime
        self._cache: list[SigningKey] | None = None

    def active(self) -> SigningKey:
        keys = [key for key in self.published() if key.retired is None]
        if not keys:
            return self.rotate()
        return max(keys, key=lambda key: key.created)

    def published(self) -> list[SigningKey]:
        """Keys in the JWKS: the active one and retired ones whose tokens may still be valid."""
        now = utcnow()
        return [
            key
            for key in self._all()
            if key.retired is None or _aware(key.retired) + self._lifetime > now
        ]

    def rotate(self) -> SigningKey:
        """Create a new active key; the previous one is retired but still published."""
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certificate = self_signed(private_key, _TOKEN_SIGNING)
        kid = b64url(certificate.fingerprint(hashes.SHA1()))
        encrypted = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._master),
        )
        now = utcnow()
        with self._db.write() as conn:
            conn.execute(
                sa.update(signing_keys).where(signing_keys.c.retired.is_(None)).values(retired=now)
            )
            conn.execute(
                sa.insert(signing_keys).values(
                    kid=kid,
                    private_pem=encrypted,
                    certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
                    created=now,
                )
            )
        self._cache = None
        return SigningKey(kid, private_key, certificate, now, None)

    def sign(self, claims: Mapping[str, Any], *, issuer: str, lifetime: dt.timedelta) -> str:
        """``claims`` as a JWT signed (RS256) by the active key.

        Adds what every token of this service carries: the issuer, issued-at, not-before
        and expiry, ``ver`` 2.0 and a unique token id (``uti``). The key id goes in both
        ``kid`` and ``x5t`` (the certificate thumbprint), as Entra ID's tokens have it.
        """
        key = self.active()
        now = utcnow()
        payload = {
            **claims,
            "iss": issuer,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "ver": "2.0",
            "uti": uuid.uuid4().hex,
        }
        headers = {"kid": key.kid, "x5t": key.kid}
        return jwt.encode(payload, key.private_key, algorithm="RS256", headers=headers)

    def find(self, kid: str) -> SigningKey | None:
        return next((key for key in self.published() if key.kid == kid), None)

    def jwks(self, issuer: str) -> dict[str, Any]:
        return {"keys": [_jwk(key, issuer) for key in self.published()]}

    def _all(self) -> list[SigningKey]:
        if self._cache is None:
            with self._db.read() as conn:
                rows = conn.execute(sa.select(signing_keys)).all()
            self._cache = [self._load(row) for row in rows]
        return self._cache

    def _load(self, row: Any) -> SigningKey:
        private_key = serialization.load_pem_private_key(row.private_pem, password=self._master)
        assert isinstance(private_key, rsa.RSAPrivateKey)
        certificate = x509.load_pem_x509_certificate(row.certificate_pem)
        return SigningKey(row.kid, private_key, certificate, _aware(row.created), row.retired)


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands datetimes back naive; every stored time is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _jwk(key: SigningKey, issuer: str) -> dict[str, Any]:
    numbers = key.private_key.public_key().public_numbers()
    der = key.certificate.public_bytes(serialization.Encoding.DER)
    return {
        "kty": "RSA",
        "use": "sig",
        "kid": key.kid,
        "x5t": key.kid,
        "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64url(numbers.e.to_bytes(3, "big")),
        "x5c": [base64.b64encode(der).decode("ascii")],
        "issuer": issuer,
    }


def thumbprint(certificate: x509.Certificate) -> str:
    """``x5t``: base64url of the SHA-1 of the DER certificate."""
    return b64url(hashlib.sha1(certificate.public_bytes(serialization.Encoding.DER)).digest())
