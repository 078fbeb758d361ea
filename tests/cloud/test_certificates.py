"""The cloud's certificates come from one builder: the CA profile, validity and chains."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from hybridsync.cloud.certificates import self_signed, self_signed_authority
from hybridsync.cloud.tls import ensure_local_tls

NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])


def _is_authority(certificate: x509.Certificate) -> bool:
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    return constraints.ca and constraints.path_length == 0 and usage.key_cert_sign


def test_an_authority_signs_certificates_and_nothing_below_them() -> None:
    for key in (rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP256R1())):
        certificate = self_signed_authority(key, NAME)
        assert _is_authority(certificate)
        certificate.verify_directly_issued_by(certificate)


def test_a_plain_self_signed_certificate_is_no_authority() -> None:
    certificate = self_signed(rsa.generate_private_key(65537, 2048), NAME, days=1)
    assert not certificate.extensions
    now = dt.datetime.now(dt.UTC)
    assert certificate.not_valid_before_utc < now < certificate.not_valid_after_utc
    assert certificate.not_valid_after_utc - now < dt.timedelta(days=1, minutes=1)


def test_the_local_https_server_certificate_chains_to_its_authority(tmp_path: Path) -> None:
    files = ensure_local_tls(tmp_path, ("localhost", "127.0.0.1"))
    authority = x509.load_pem_x509_certificate(files.ca_certificate.read_bytes())
    server = x509.load_pem_x509_certificate(files.certificate.read_bytes())
    assert _is_authority(authority)
    server.verify_directly_issued_by(authority)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
