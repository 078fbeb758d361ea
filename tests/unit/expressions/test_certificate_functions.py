"""Certificate functions, against certificates made here with cryptography."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from tests.unit.expressions.support import evaluate

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions import MultiValue

NOT_BEFORE = datetime(2024, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2030, 1, 1, tzinfo=UTC)
UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


def _certificate(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, serial: int) -> bytes:
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Jane Doe"),
    ])  # fmt: skip
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Contoso CA")])
    alternative = x509.SubjectAlternativeName([
        x509.DNSName("jane.contoso.com"),
        x509.RFC822Name("jane@contoso.com"),
        x509.OtherName(UPN_OID, b"\x0c\x10jane@contoso.com"),
    ])  # fmt: skip
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(alternative, critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def rsa_cert() -> bytes:
    return _certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048), 0x1A2B)


@pytest.fixture(scope="module")
def ec_cert() -> bytes:
    return _certificate(ec.generate_private_key(ec.SECP256R1()), 0x0C)


def test_text_fields(rsa_cert: bytes) -> None:
    thumbprint = hashlib.sha1(rsa_cert).hexdigest().upper()
    expected = {
        "CertSubject": "CN=Jane Doe, O=Contoso, C=US",
        "CertSubjectNameDN": "CN=Jane Doe, O=Contoso, C=US",
        "CertIssuer": "CN=Contoso CA",
        "CertIssuerDN": "CN=Contoso CA",
        "CertIssuerOid": "2.5.4.3",
        "CertSubjectNameOid": "2.5.4.3",
        "CertSerialNumber": "1A2B",
        "CertThumbprint": thumbprint,
        "CertHashString": thumbprint,
        "Thumbprint": thumbprint,
        "CertVersion": "3",
        "CertFormat": "X509",
        "CertFriendlyName": "",
        "CertKeyAlgorithm": "1.2.840.113549.1.1.1",
        "CertPublicKeyOid": "1.2.840.113549.1.1.1",
        "CertKeyAlgorithmParams": "0500",
        "CertPublicKeyParametersOid": "",
        "CertSignatureAlgorithmOid": "1.2.840.113549.1.1.11",
    }
    actual = {name: evaluate(f"{name}([c])", c=rsa_cert) for name in expected}
    assert actual == expected


def test_dates_and_oids(rsa_cert: bytes) -> None:
    assert evaluate("CertNotBefore([c])", c=rsa_cert) == NOT_BEFORE
    assert evaluate("CertNotAfter([c])", c=rsa_cert) == NOT_AFTER
    assert evaluate("CertExtensionOids([c])", c=rsa_cert) == MultiValue(["2.5.29.19"])


def test_elliptic_curve_parameters(ec_cert: bytes) -> None:
    assert evaluate("CertPublicKeyParametersOid([c])", c=ec_cert) == "1.2.840.10045.3.1.7"
    assert evaluate("CertKeyAlgorithm([c])", c=ec_cert) == "1.2.840.10045.2.1"
    assert evaluate("CertSerialNumber([c])", c=ec_cert) == "0C"


def test_serial_number_keeps_the_der_sign_byte() -> None:
    certificate = _certificate(ec.generate_private_key(ec.SECP256R1()), 0x80FF)
    assert evaluate("CertSerialNumber([c])", c=certificate) == "0080FF"


@pytest.mark.parametrize(
    ("name_type", "issuer", "expected"),
    [
        ("SimpleName", "False", "Jane Doe"),
        ("SimpleName", "True", "Contoso CA"),
        ("EmailName", "False", "jane@contoso.com"),
        ("UpnName", "False", "jane@contoso.com"),
        ("DnsName", "False", "Jane Doe"),
        ("DnsFromAlternativeName", "False", "jane.contoso.com"),
        ("UrlName", "False", ""),
    ],
)
def test_cert_name_info(rsa_cert: bytes, name_type: str, issuer: str, expected: str) -> None:
    assert evaluate(f'CertNameInfo([c], "{name_type}", {issuer})', c=rsa_cert) == expected


def test_base64_and_pem_text_are_certificates_too(rsa_cert: bytes) -> None:
    text = base64.b64encode(rsa_cert).decode()
    pem = f"-----BEGIN CERTIFICATE-----\n{text}\n-----END CERTIFICATE-----\n"
    assert evaluate("IsCert([c])", c=text) is True
    assert evaluate("CertIssuer([c])", c=pem) == "CN=Contoso CA"


def test_unexpired_certificates_documented_example(rsa_cert: bytes, ec_cert: bytes) -> None:
    expired = _certificate(ec.generate_private_key(ec.SECP256R1()), 1)
    certificates = [rsa_cert, expired, ec_cert]
    # Now() is after NOT_BEFORE and before NOT_AFTER; compare with a fixed date instead.
    text = 'Where($item,[userCertificate],CertNotAfter($item)>CDate("2029-01-01"))'
    assert evaluate(text, userCertificate=certificates) == MultiValue(certificates)
    text = 'Where($item,[userCertificate],CertNotAfter($item)>CDate("2031-01-01"))'
    assert evaluate(text, userCertificate=certificates) is None


def test_with_example_returns_null_without_certificates() -> None:
    text = (
        "With($unExpiredCerts,Where($item,[userCertificate],CertNotAfter($item)>Now()),"
        "IIF(Count($unExpiredCerts)>0,$unExpiredCerts,NULL))"
    )
    assert evaluate(text) is None


def test_is_cert_and_errors() -> None:
    assert evaluate("IsCert([c])", c=b"not a certificate") is False
    assert evaluate("IsCert([missing])") is False
    with pytest.raises(ExpressionEvalError, match=r"not an X\.509 certificate"):
        evaluate("CertSubject([c])", c=b"\x30\x03\x02\x01\x01")


def test_not_after_is_later_than_now_for_a_valid_certificate(rsa_cert: bytes) -> None:
    assert datetime.now(UTC) + timedelta(days=1) < NOT_AFTER
    assert evaluate("CertNotAfter([c]) > Now()", c=rsa_cert) is True


def test_every_certificate_function_has_its_reader() -> None:
    from hybridsync.expressions.functions import certificate, x509_fields

    assert set(certificate._FIELD_NAMES) == set(x509_fields.FIELDS)


def test_loading_the_language_does_not_load_x509_support() -> None:
    # Every run compiles the rules; only a rule that reads a certificate pays for it.
    script = (
        "import sys\n"
        "from hybridsync.expressions import compile_expression\n"
        "assert compile_expression('Trim(\"a\")').evaluate({}) == 'a'\n"
        "print('cryptography.x509' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
