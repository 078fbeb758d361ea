"""Certificate functions over X.509 data (DER bytes, or base64/PEM text), via cryptography.

The reading itself is in :mod:`hybridsync.expressions.functions.x509_fields`, imported
on the first call: most rule sets use no certificate function, and every run loads the
expression language.
"""

from __future__ import annotations

from collections.abc import Callable

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions.coerce import is_multi, multi, single, to_bool, to_enum, values_of
from hybridsync.expressions.signatures import FunctionSpec, function

_NAME_TYPES = (
    "SimpleName",
    "EmailName",
    "UpnName",
    "DnsName",
    "DnsFromAlternativeName",
    "UrlName",
)
_FIELD_NAMES = (
    "CertExtensionOids",
    "CertFormat",
    "CertFriendlyName",
    "CertHashString",
    "CertIssuer",
    "CertIssuerDN",
    "CertIssuerOid",
    "CertKeyAlgorithm",
    "CertKeyAlgorithmParams",
    "CertNotAfter",
    "CertNotBefore",
    "CertPublicKeyOid",
    "CertPublicKeyParametersOid",
    "CertSerialNumber",
    "CertSignatureAlgorithmOid",
    "CertSubject",
    "CertSubjectNameDN",
    "CertSubjectNameOid",
    "CertThumbprint",
    "Thumbprint",
    "CertVersion",
)
"""The fields one function each reads (``x509_fields.FIELDS`` has one reader per name)."""


def _field(name: str) -> Callable[[object], object]:
    def implementation(value: object) -> object:
        if value is None:
            return None
        from hybridsync.expressions.functions import x509_fields

        read, load = x509_fields.FIELDS[name], x509_fields.load
        if is_multi(value):
            return multi(read(load(item)) for item in values_of(value))
        return read(load(value))

    implementation.__name__ = name
    return implementation


def _is_cert_value(item: object) -> bool:
    from hybridsync.expressions.functions import x509_fields

    try:
        x509_fields.load(item)
    except ExpressionEvalError:
        return False
    return True


def is_cert(value: object) -> object:
    if is_multi(value):
        return multi(_is_cert_value(item) for item in values_of(value)) or False
    return value is not None and _is_cert_value(value)


def cert_name_info(value: object, name_type: object, issuer: object) -> object:
    if value is None:
        return None
    from hybridsync.expressions.functions import x509_fields

    chosen = to_enum(name_type, _NAME_TYPES, "the X509NameType")
    for_issuer = to_bool(issuer, "includesIssuerName")
    certificate = x509_fields.load(single(value, "the certificate"))
    return x509_fields.name_info(certificate, chosen, for_issuer)


_RETURNS = {"CertExtensionOids": "mv", "CertNotAfter": "dt", "CertNotBefore": "dt"}

FUNCTIONS: tuple[FunctionSpec, ...] = (
    *(
        function(
            name, "Certificate", _RETURNS.get(name, "str"), ("bin",),
            implementation=_field(name), maps=True,
        )
        for name in _FIELD_NAMES
    ),
    function("CertNameInfo", "Certificate", "str", ("bin", "str", "exp"),
             implementation=cert_name_info),
    function("IsCert", "Certificate", "bool", ("var",), implementation=is_cert, maps=True),
)  # fmt: skip
