"""Raw LDAP entries to :class:`ImportedObject`: values typed, DNs cleaned, names as configured."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

from hybridsync.core.ports import ImportedObject, ImportKind
from hybridsync.core.values import AttributeValue, Reference, Values

__all__ = ["anchor_of", "attribute_values", "convert", "plain_dn"]

BINARY = frozenset(
    {"objectguid", "objectsid", "ms-ds-consistencyguid", "sidhistory", "usercertificate",
     "thumbnailphoto", "jpegphoto", "msexchmailboxguid", "msexchmasteraccountsid",
     "parentguid", "invocationid"}
)  # fmt: skip
INTEGER = frozenset(
    {"useraccountcontrol", "grouptype", "usnchanged", "usncreated", "primarygroupid",
     "samaccounttype", "instancetype", "admincount", "msexchrecipienttypedetails",
     "pwdlastset", "accountexpires", "lastlogontimestamp"}
)  # fmt: skip
BOOLEAN = frozenset({"iscriticalsystemobject", "isdeleted", "showinadvancedviewonly"})
REFERENCE = frozenset(
    {"member", "memberof", "manager", "directreports", "managedby", "secretary", "seealso"}
)
_EXTENDED_DN_PREFIX = re.compile(r"^(?:<[A-Za-z]+=[^>]*>;)+")


def plain_dn(dn: str) -> str:
    """Drop the ``<GUID=...>;<SID=...>;`` prefix of an extended DN."""
    return _EXTENDED_DN_PREFIX.sub("", dn)


def anchor_of(guid: bytes) -> str:
    """objectGUID (16 bytes, little-endian fields) as AD writes it: ``xxxxxxxx-xxxx-...``."""
    return str(uuid.UUID(bytes_le=guid))


def _value(name: str, raw: bytes) -> AttributeValue:
    if name in BINARY:
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw  # an attribute holding binary data that we did not know about
    if name in REFERENCE:
        return Reference(plain_dn(text))
    if name in BOOLEAN:
        return text.upper() == "TRUE"
    if name in INTEGER:
        try:
            return int(text)
        except ValueError:
            return text
    return text


def attribute_values(name: str, raw: list[bytes]) -> Values:
    lowered = name.lower()
    return tuple(_value(lowered, value) for value in raw)


def convert(
    dn: str,
    raw: Mapping[str, list[bytes]],
    *,
    object_type: str,
    names: Mapping[str, str],
    kind: ImportKind,
) -> ImportedObject:
    """Build the record; keep only attributes in ``names`` (lower-case -> configured name).

    An attribute the server returned with no values (DirSync: cleared) becomes ``()``.
    """
    attributes: dict[str, Values] = {}
    for name, values in raw.items():
        configured = names.get(name.lower())
        if configured is not None:
            attributes[configured] = attribute_values(name, values)
    guid = raw["objectGUID"][0]
    return ImportedObject(
        anchor=anchor_of(guid),
        dn=plain_dn(dn),
        object_type=object_type,
        attributes=attributes,
        kind=kind,
    )
