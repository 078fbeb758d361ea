"""Raw LDAP entries to :class:`ImportedObject`: values typed, DNs cleaned, names as configured."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterable, Mapping

from hybridsync.core.ports import ImportedObject, ImportKind
from hybridsync.core.values import AttributeValue, Reference, Values

__all__ = ["Converter", "MalformedAnchor", "anchor_of", "checked_anchor", "converter_for",
           "guid_dn", "guid_text", "plain_dn"]  # fmt: skip
GUID_BYTES = 16


class MalformedAnchor(ValueError):
    """An entry's objectGUID is not a GUID: the entry cannot be matched to its object."""

    def __init__(self, dn: str, message: str) -> None:
        super().__init__(f"{dn}: {message}")
        self.dn = dn
        self.message = message


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
ACCOUNT_DISABLED = "accountDisabled"
"""Not an AD attribute: bit 0x2 of userAccountControl as a boolean, for rules that enable
and disable accounts (the export writes that bit alone). Present when configured."""
DN_ATTRIBUTE = "distinguishedName"
"""Exposed from the entry's DN rather than read as a value (see ``Converter.record``)."""
_EXTENDED_DN_PREFIX = re.compile(r"^(?:<[A-Za-z]+=[^>]*>;)+")


def plain_dn(dn: str) -> str:
    """Drop the ``<GUID=...>;<SID=...>;`` prefix of an extended DN."""
    return _EXTENDED_DN_PREFIX.sub("", dn) if dn.startswith("<") else dn


def guid_text(text: str) -> str | None:
    """``text`` as an anchor (objectGUID in AD's text form), if it is one."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def guid_dn(anchor: str) -> str:
    """The DN AD takes for the object whose objectGUID is ``anchor``: ``<GUID=...>``."""
    return f"<GUID={uuid.UUID(anchor)}>"


def anchor_of(guid: bytes) -> str:
    """objectGUID (16 bytes, little-endian fields) as AD writes it: ``xxxxxxxx-xxxx-...``."""
    return str(uuid.UUID(bytes_le=guid))


def checked_anchor(dn: str, raw: Mapping[str, list[bytes]]) -> str:
    """The anchor of an entry, or :class:`MalformedAnchor` when its objectGUID is not one.

    An anchor in another form would read as a new object under the same DN: the stored
    object would be deleted and a new one added (its cloud user replaced, its group
    memberships lost). The engine reports such an entry instead and keeps the object.
    """
    values = raw.get("objectGUID") or [b""]
    if len(values[0]) != GUID_BYTES:
        found = f"{len(values[0])} bytes"
        raise MalformedAnchor(dn, f"attribute objectGUID holds {found}, not a 16-byte GUID")
    return anchor_of(values[0])


def _text(raw: bytes) -> AttributeValue:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw  # an attribute holding binary data that we did not know about


def _binary(raw: bytes) -> AttributeValue:
    return raw


def _reference(raw: bytes) -> AttributeValue:
    text = _text(raw)
    return Reference(plain_dn(text)) if isinstance(text, str) else text


def _boolean(raw: bytes) -> AttributeValue:
    text = _text(raw)
    return text.upper() == "TRUE" if isinstance(text, str) else text


def _integer(raw: bytes) -> AttributeValue:
    try:
        return int(raw)
    except ValueError:
        return _text(raw)


ValueConverter = Callable[[bytes], AttributeValue]


@functools.cache
def converter_for(name: str) -> ValueConverter:
    """How to type the values of attribute ``name`` (any case)."""
    lowered = name.lower()
    for names, converter in ((BINARY, _binary), (REFERENCE, _reference),
                             (BOOLEAN, _boolean), (INTEGER, _integer)):  # fmt: skip
        if lowered in names:
            return converter
    return _text


class Converter:
    """Builds records, keeping only the attributes of the inclusion list under their
    configured names. Column lookups are cached by the server's spelling: a full import
    converts every value of every object, so this is the connector's hot loop."""

    def __init__(self, attributes: Iterable[str]) -> None:
        self._wanted = {name.lower(): name for name in attributes}
        self._dn_column = self._wanted.get(DN_ATTRIBUTE.lower())
        self._disabled_column = self._wanted.get(ACCOUNT_DISABLED.lower())
        self._columns: dict[str, tuple[str, ValueConverter] | None] = {}

    def _column(self, name: str) -> tuple[str, ValueConverter] | None:
        if name not in self._columns:
            configured = self._wanted.get(name.lower())
            column = None if configured is None else (configured, converter_for(name))
            self._columns[name] = column
        return self._columns[name]

    def record(
        self, dn: str, raw: Mapping[str, list[bytes]], object_type: str, kind: ImportKind
    ) -> ImportedObject:
        """The record for one entry; a returned attribute without values becomes ``()``
        (DirSync's way of saying it was cleared)."""
        attributes: dict[str, Values] = {}
        for name, values in raw.items():
            column = self._column(name)
            if column is not None:
                attributes[column[0]] = tuple(map(column[1], values))
        plain = plain_dn(dn)
        if self._dn_column is not None:
            # As Entra Connect's AD connector does: the entry's own DN is an attribute
            # rules can read, present on every record (DirSync sends it for moves only).
            attributes[self._dn_column] = (plain,)
        if self._disabled_column is not None:
            control = raw.get("userAccountControl")
            if control and control[0].isdigit():
                attributes[self._disabled_column] = (bool(int(control[0]) & 0x2),)
        return ImportedObject(
            anchor=checked_anchor(plain, raw),
            dn=plain,
            object_type=object_type,
            attributes=attributes,
            kind=kind,
        )
