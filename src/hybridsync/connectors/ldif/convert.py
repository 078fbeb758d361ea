"""LDIF records to imported objects: anchor, object type, typed values."""

from __future__ import annotations

import hashlib
import uuid

from hybridsync.connectors.ldif.parser import BINARY_ATTRIBUTES, LdifRecord
from hybridsync.core.ports import ImportedObject, ImportKind
from hybridsync.core.values import AttributeValue, Reference

MULTI_VALUED = frozenset(
    {
        "objectClass", "proxyAddresses", "member", "memberOf", "otherMailbox", "otherMobile",
        "otherTelephone", "otherHomePhone", "servicePrincipalName", "url", "userCertificate",
        "sIDHistory", "description", "showInAddressBook", "msExchExtensionCustomAttribute1",
    }
)  # fmt: skip
INTEGER_ATTRIBUTES = frozenset(
    name.lower()
    for name in (
        "userAccountControl", "msExchRecipientTypeDetails", "msExchRecipientDisplayType",
        "primaryGroupID", "sAMAccountType", "instanceType", "groupType",
    )
)  # fmt: skip
BOOLEAN_ATTRIBUTES = frozenset({"iscriticalsystemobject", "showinadvancedviewonly"})
REFERENCES = frozenset(
    {"member", "memberOf", "manager", "directReports", "managedBy", "secretary", "seeAlso"}
)
"""DN-syntax attributes, as AD's schema has them: their values name other entries."""
REFERENCE_ATTRIBUTES = frozenset(name.lower() for name in REFERENCES)
_TYPED = BINARY_ATTRIBUTES | INTEGER_ATTRIBUTES | BOOLEAN_ATTRIBUTES | REFERENCE_ATTRIBUTES
"""Attributes whose values :func:`_typed` may change; the others are kept as read."""
OBJECT_TYPES = ("computer", "user", "group", "contact", "organizationalUnit")


def object_type(record: LdifRecord) -> str | None:
    """The most specific known object class of the record (computer before user)."""
    classes = {str(value).lower() for value in record.attributes.get("objectClass", [])}
    return next((kind for kind in OBJECT_TYPES if kind.lower() in classes), None)


GUID_ANCHORS = frozenset({"objectguid", "ms-ds-consistencyguid"})
"""Anchor attributes that always hold a GUID: 16 bytes (or its canonical text)."""


def anchor_problem(record: LdifRecord, anchor_attribute: str) -> str | None:
    """Why the record's anchor is not a GUID when its attribute always holds one, else None.

    An anchor in another form would read as a new object under the same DN: the stored
    object would be deleted and a new one added (its cloud user replaced, its group
    memberships lost). Such a record is reported instead, and its stored object kept.
    """
    if anchor_attribute.lower() not in GUID_ANCHORS:
        return None
    values = _get(record, anchor_attribute)
    if not values:
        return None
    value = values[0]
    if isinstance(value, bytes):
        if len(value) == 16:
            return None
        found = f"{len(value)} bytes"
    else:
        try:
            uuid.UUID(value)
            return None
        except ValueError:
            found = f"the text {value[:40]!r}"
    return f"attribute {anchor_attribute} holds {found}, not a 16-byte GUID"


def anchor_of(record: LdifRecord, anchor_attribute: str) -> str | None:
    values = _get(record, anchor_attribute)
    if not values:
        return None
    value = values[0]
    if isinstance(value, bytes):
        return _guid_text(value) if len(value) == 16 else value.hex()
    if anchor_attribute.lower() in GUID_ANCHORS:
        return str(uuid.UUID(value))  # one form whichever way the file spells the GUID
    return value


def _guid_text(value: bytes) -> str:
    """``str(uuid.UUID(bytes_le=value))``, without building the UUID (once per object)."""
    text = (value[3::-1] + value[5:3:-1] + value[7:5:-1] + value[8:]).hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def to_imported(
    record: LdifRecord, kind: str, anchor: str, change: ImportKind = ImportKind.PRESENT
) -> ImportedObject:
    attributes: dict[str, tuple[AttributeValue, ...]] = {}
    for name, values in record.attributes.items():
        if _lower(name) in _TYPED:
            attributes[name] = tuple(_typed(name, value) for value in values)
        else:
            attributes[name] = tuple(values)  # text stays text, bytes stay bytes
    return ImportedObject(anchor, record.dn, kind, attributes, change)


_LOWERED: dict[str, str] = {}


def _lower(name: str) -> str:
    """An attribute name in lower case (a directory has few names, each read per object)."""
    lowered = _LOWERED.get(name)
    if lowered is None:
        if len(_LOWERED) > 10_000:
            _LOWERED.clear()
        lowered = _LOWERED[name] = name.lower()
    return lowered


def digest(record: LdifRecord) -> str:
    """A short fingerprint of the record, to find changed entries between two files."""
    hasher = hashlib.blake2b(digest_size=10)
    hasher.update(record.dn.encode("utf-8"))
    for name in sorted(record.attributes):
        hasher.update(b"\0" + name.encode("utf-8"))
        for value in record.attributes[name]:
            hasher.update(b"\1" + (value if isinstance(value, bytes) else value.encode("utf-8")))
    return hasher.hexdigest()


def _get(record: LdifRecord, name: str) -> list[str | bytes]:
    exact = record.attributes.get(name)
    if exact is not None:
        return exact
    lowered = name.lower()
    for key, values in record.attributes.items():
        if key.lower() == lowered:
            return values
    return []


def _typed(name: str, value: str | bytes) -> AttributeValue:
    lowered = name.lower()
    if isinstance(value, bytes) or lowered in BINARY_ATTRIBUTES:
        return value
    if lowered in INTEGER_ATTRIBUTES:
        try:
            return int(value)
        except ValueError:
            return value
    if lowered in BOOLEAN_ATTRIBUTES and value.upper() in {"TRUE", "FALSE"}:
        return value.upper() == "TRUE"
    if lowered in REFERENCE_ATTRIBUTES:
        return Reference(value)
    return value
