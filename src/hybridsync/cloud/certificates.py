"""Building X.509 certificates: one place for validity, serial numbers and the CA profile.

Three kinds are made by the cloud: the local CA and server certificate for HTTPS
(``cloud/tls.py``), the pass-through agents' CA and their client certificates
(``cloud/signin/agents.py``), and the token-signing certificates (``cloud/keys.py``).
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)

__all__ = ["AUTHORITY_DAYS", "certificate_builder", "self_signed", "self_signed_authority"]

AUTHORITY_DAYS = 3650
CLOCK_SKEW = dt.timedelta(minutes=5)
"""Valid from a little before now, so a peer whose clock runs behind accepts it at once."""


def certificate_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    days: int,
) -> x509.CertificateBuilder:
    """A certificate with a random serial, valid for ``days`` from now; extensions to add."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=days))
    )


def self_signed(
    key: CertificateIssuerPrivateKeyTypes, name: x509.Name, days: int = AUTHORITY_DAYS
) -> x509.Certificate:
    """A self-signed certificate that only carries a public key (no extensions)."""
    return certificate_builder(name, name, key.public_key(), days).sign(key, hashes.SHA256())


def self_signed_authority(
    key: CertificateIssuerPrivateKeyTypes, name: x509.Name, days: int = AUTHORITY_DAYS
) -> x509.Certificate:
    """A root CA that signs end certificates only (path length 0, certificate and CRL signing)."""
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        certificate_builder(name, name, key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
