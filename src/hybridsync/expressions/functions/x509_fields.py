"""Reading X.509 data (DER bytes, or base64/PEM text) for the certificate functions.

The only module of the expression language that imports cryptography; the certificate
functions import it on first use, so that loading the language (every run) does not
load cryptography's X.509 support.

The reference describes the functions as thin wrappers over .NET ``X509Certificate2``;
results follow its formats: hex in upper case, distinguished names most specific first
and separated by ", ", dates in UTC (the reference says local time; this engine has no
local time, see docs/expressions.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from hybridsync.expressions.coerce import fail, kind, multi

_SIMPLE_NAME_ORDER = (
    NameOID.COMMON_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.ORGANIZATION_NAME,
)
_UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


def _raw(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-----BEGIN"):
            return text.encode("ascii", errors="replace")
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            fail("certificate data must be DER bytes or base64 text")
    fail(f"certificate data must be binary, not {kind(value)}")


@lru_cache(maxsize=512)
def _parse(data: bytes) -> x509.Certificate:
    if data.startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def load(value: object) -> x509.Certificate:
    """The certificate in ``value``; fails with a clear message when it is not one."""
    try:
        return _parse(_raw(value))
    except ValueError as error:
        fail(f"not an X.509 certificate: {error}")


def _dn(name: x509.Name) -> str:
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(name.rdns))


def _name_oid(name: x509.Name) -> str:
    # The OID of the most specific attribute type of the name (CN: 2.5.4.3).
    return next(iter(name.rdns[-1])).oid.dotted_string if name.rdns else ""


def _spki_algorithm(cert: x509.Certificate) -> tuple[bytes, bytes]:
    """The (OID, parameters) DER encodings of the public key's algorithm identifier."""
    der = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    parts = _der_children(_der_children(der)[0])
    return parts[0], parts[1] if len(parts) > 1 else b""


def _der_length(data: bytes, offset: int) -> tuple[int, int]:
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    return int.from_bytes(data[offset + 1 : offset + 1 + count], "big"), offset + 1 + count


def _der_elements(content: bytes) -> list[bytes]:
    """The whole TLV encodings of the elements in ``content``."""
    elements, offset = [], 0
    while offset < len(content):
        length, body = _der_length(content, offset + 1)
        elements.append(content[offset : body + length])
        offset = body + length
    return elements


def _der_children(element: bytes) -> list[bytes]:
    length, body = _der_length(element, 1)
    return _der_elements(element[body : body + length])


def _key_oid(cert: x509.Certificate) -> str:
    return cert.public_key_algorithm_oid.dotted_string


def _key_parameters_oid(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _curve_oid(cert)
    return ""


def _curve_oid(cert: x509.Certificate) -> str:
    parameters = _spki_algorithm(cert)[1]
    return x509.ObjectIdentifier(_decode_oid(parameters)).dotted_string


def _decode_oid(element: bytes) -> str:
    length, body = _der_length(element, 1)
    data = element[body : body + length]
    numbers, value = [], 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    first = min(numbers[0] // 40, 2)
    return ".".join(map(str, [first, numbers[0] - 40 * first, *numbers[1:]]))


def _serial_hex(serial: int) -> str:
    # The DER content bytes, as .NET shows them: a positive serial whose top bit is set
    # keeps its leading zero byte.
    return serial.to_bytes(serial.bit_length() // 8 + 1, "big", signed=True).hex().upper()


def _critical_oids(cert: x509.Certificate) -> object:
    return multi(ext.oid.dotted_string for ext in cert.extensions if ext.critical)


def _thumbprint(cert: x509.Certificate) -> str:
    return hashlib.sha1(cert.public_bytes(Encoding.DER)).hexdigest().upper()


def name_info(cert: x509.Certificate, name_type: str, issuer: bool) -> str:
    name = cert.issuer if issuer else cert.subject
    if name_type in ("SimpleName", "DnsName"):
        for oid in _SIMPLE_NAME_ORDER:
            found = name.get_attributes_for_oid(oid)
            if found:
                return str(found[0].value)
        if name_type == "SimpleName":
            return _dn(name)
    if name_type == "EmailName":
        found = name.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
        if found:
            return str(found[0].value)
    return "" if issuer else _alternative_name(cert, name_type)


def _alternative_name(cert: x509.Certificate, name_type: str) -> str:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    wanted: dict[str, Callable[[], list[str]]] = {
        "EmailName": lambda: names.get_values_for_type(x509.RFC822Name),
        "DnsName": lambda: names.get_values_for_type(x509.DNSName),
        "DnsFromAlternativeName": lambda: names.get_values_for_type(x509.DNSName),
        "UrlName": lambda: names.get_values_for_type(x509.UniformResourceIdentifier),
        "UpnName": lambda: [
            other.value[2:].decode("utf-8", errors="replace")
            for other in names.get_values_for_type(x509.OtherName)
            if other.type_id == _UPN_OID
        ],
    }
    values = wanted.get(name_type, list)()
    return values[0] if values else ""


FIELDS: dict[str, Callable[[x509.Certificate], object]] = {
    "CertExtensionOids": _critical_oids,
    "CertFormat": lambda cert: "X509",
    "CertFriendlyName": lambda cert: "",
    "CertHashString": _thumbprint,
    "CertIssuer": lambda cert: _dn(cert.issuer),
    "CertIssuerDN": lambda cert: _dn(cert.issuer),
    "CertIssuerOid": lambda cert: _name_oid(cert.issuer),
    "CertKeyAlgorithm": _key_oid,
    "CertKeyAlgorithmParams": lambda cert: _spki_algorithm(cert)[1].hex().upper(),
    "CertNotAfter": lambda cert: cert.not_valid_after_utc,
    "CertNotBefore": lambda cert: cert.not_valid_before_utc,
    "CertPublicKeyOid": _key_oid,
    "CertPublicKeyParametersOid": _key_parameters_oid,
    "CertSerialNumber": lambda cert: _serial_hex(cert.serial_number),
    "CertSignatureAlgorithmOid": lambda cert: cert.signature_algorithm_oid.dotted_string,
    "CertSubject": lambda cert: _dn(cert.subject),
    "CertSubjectNameDN": lambda cert: _dn(cert.subject),
    "CertSubjectNameOid": lambda cert: _name_oid(cert.subject),
    "CertThumbprint": _thumbprint,
    "Thumbprint": _thumbprint,
    "CertVersion": lambda cert: str(cert.version.value + 1),
}
