"""Read one object now, by DN, UPN or anchor: the import side of sync on demand.

A DN or an anchor is a base-scope read of that entry (AD takes ``<GUID=...>`` as a
DN); a UPN is an equality search whose value is escaped, so that a key holding filter
syntax (``*)(objectClass=*``) matches nothing rather than everything, and whose size
limit is two, so that a UPN two objects share is refused instead of guessed.
"""

from __future__ import annotations

import ldap.dn
import ldap.filter

from hybridsync.connectors.ad.connection import RawEntry
from hybridsync.connectors.ad.convert import guid_dn, guid_text, plain_dn
from hybridsync.connectors.ad.reader import Reader
from hybridsync.connectors.ad.scope import OBJECT_FILTERS
from hybridsync.core.ports import ImportedObject, ImportKind, OutOfScope
from hybridsync.errors import AmbiguousKeyError

__all__ = ["read_object"]


def read_object(reader: Reader, key: str) -> ImportedObject | OutOfScope | None:
    """The object ``key`` names, as a REPLACE record; see ``SupportsReadObject``."""
    entry = _entry(reader, key.strip())
    if entry is None:
        return None
    dn = plain_dn(entry[0])
    object_type = reader.typed(entry, "")
    if object_type not in reader.object_types:
        kind = object_type or "an object of another class"
        return OutOfScope(dn, f"it is {kind}; the connector syncs {', '.join(reader.object_types)}")
    if not reader.scope.contains(dn):
        return OutOfScope(dn, "it is outside the connector's OUs (include_ous, exclude_ous)")
    return reader.record(entry, object_type, ImportKind.REPLACE)


def _entry(reader: Reader, key: str) -> RawEntry | None:
    guid = guid_text(key)
    if guid is not None:
        return reader.conn.read_entry(guid_dn(guid), reader.attributes)
    if _is_dn(key):
        return reader.conn.read_entry(key, reader.attributes)
    if "@" in key:
        return _by_upn(reader, key)
    return None


def _is_dn(key: str) -> bool:
    return "=" in key and ldap.dn.is_dn(key)


def _by_upn(reader: Reader, upn: str) -> RawEntry | None:
    """The object whose userPrincipalName is ``upn`` (escaped: one exact value)."""
    types = "".join(OBJECT_FILTERS[kind] for kind in reader.object_types)
    value = ldap.filter.escape_filter_chars(upn)
    filterstr = f"(&(|{types})(userPrincipalName={value}))"
    found = reader.conn.search_at_most(reader.scope.domain_dn, filterstr, reader.attributes, 2)
    if len(found) > 1:
        dns = " and ".join(plain_dn(entry[0]) for entry in found)
        raise AmbiguousKeyError(f"the UPN {upn!r} names more than one object ({dns}); use a DN")
    return found[0] if found else None
