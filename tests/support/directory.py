"""Directory changes as the domain Administrator: the part of ``SambaDC`` tests call most.

Mixed into :class:`tests.support.samba.SambaDC`, which provides ``admin``, ``connect`` and
``base_dn``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import ldap
import ldap.modlist
from ldap.controls import LDAPControl
from ldap.ldapobject import LDAPObject
from ldif import LDIFRecordList

__all__ = ["USER_PASSWORD", "Change", "DirectoryEditor"]

USER_PASSWORD = "Hs-User!Passw0rd1"
"""The password of every user the fixture creates unless a test gives another."""

SHOW_DELETED_OID = "1.2.840.113556.1.4.417"
NORMAL_ACCOUNT = 0x200
ACCOUNT_DISABLED = 0x2
Change = str | bytes | int | Sequence[str | bytes] | None


def _encode(value: str | bytes | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _values(value: Change) -> list[bytes]:
    if value is None:
        return []
    if isinstance(value, str | bytes | int):
        return [_encode(value)]
    return [_encode(v) for v in value]


def _unicode_pwd(password: str) -> bytes:
    return f'"{password}"'.encode("utf-16-le")


def _rdn_value(text: str) -> str:
    return ldap.dn.escape_dn_chars(text)


class DirectoryEditor:
    """Adds, changes, moves, deletes and restores objects; reads them back."""

    base_dn: str

    @property
    def admin(self) -> LDAPObject:
        raise NotImplementedError

    def connect(self, who: str | None = None, password: str | None = None) -> LDAPObject:
        raise NotImplementedError

    def ou(self, name: str) -> str:
        """The DN of a top-level OU (it need not exist)."""
        return f"OU={_rdn_value(name)},{self.base_dn}"

    def add_ou(self, name: str, parent_dn: str | None = None) -> str:
        dn = f"OU={_rdn_value(name)},{parent_dn or self.base_dn}"
        attrs = {"objectClass": [b"top", b"organizationalUnit"], "ou": [_encode(name)]}
        self.admin.add_s(dn, ldap.modlist.addModlist(attrs))
        return dn

    def _user_entry(
        self,
        sam: str,
        *,
        upn: str | None,
        password: str | None,
        enabled: bool,
        attributes: Mapping[str, Change] | None,
    ) -> list[tuple[str, list[bytes]]]:
        attrs: dict[str, list[bytes]] = {
            "objectClass": [b"top", b"person", b"organizationalPerson", b"user"],
            "sAMAccountName": [_encode(sam)],
        }
        if upn is not None:
            attrs["userPrincipalName"] = [_encode(upn)]
        if password is not None:
            attrs["unicodePwd"] = [_unicode_pwd(password)]
            control = NORMAL_ACCOUNT | (0 if enabled else ACCOUNT_DISABLED)
            attrs["userAccountControl"] = [_encode(control)]
        for name, value in (attributes or {}).items():
            if _values(value):
                attrs[name] = _values(value)
        return list(attrs.items())

    def add_user(
        self,
        sam: str,
        *,
        ou_dn: str | None = None,
        upn: str | None = None,
        cn: str | None = None,
        password: str | None = USER_PASSWORD,
        enabled: bool = True,
        attributes: Mapping[str, Change] | None = None,
    ) -> str:
        """Create a user and return its DN.

        Without a password the account is created disabled, as AD does.
        ``attributes`` maps LDAP names to a value, a list of values, or ``None`` (skip).
        """
        parent = ou_dn or f"CN=Users,{self.base_dn}"
        dn = f"CN={_rdn_value(cn or sam)},{parent}"
        entry = self._user_entry(
            sam, upn=upn, password=password, enabled=enabled, attributes=attributes
        )
        self.admin.add_s(dn, entry)
        return dn

    def add_users_bulk(
        self,
        count: int,
        *,
        ou_dn: str,
        prefix: str = "user",
        upn_suffix: str = "contoso.com",
        attributes: Mapping[str, Change] | None = None,
        window: int = 64,
    ) -> list[str]:
        """Create ``count`` users fast (pipelined adds, no password: disabled accounts)."""
        conn = self.connect()
        try:
            pending: list[int] = []
            dns: list[str] = []
            for index in range(count):
                sam = f"{prefix}{index:06d}"
                dn = f"CN={sam},{ou_dn}"
                attrs = {
                    "givenName": f"Given{index}",
                    "sn": f"Surname{index}",
                    **(attributes or {}),
                }
                entry = self._user_entry(
                    sam, upn=f"{sam}@{upn_suffix}", password=None, enabled=False, attributes=attrs
                )
                pending.append(conn.add_ext(dn, entry))
                dns.append(dn)
                if len(pending) >= window:
                    conn.result(pending.pop(0))
            for msgid in pending:
                conn.result(msgid)
            return dns
        finally:
            conn.unbind_s()

    def add_group(self, name: str, *, ou_dn: str | None = None, members: Iterable[str] = ()) -> str:
        """Create a global security group with ``members`` (DNs) and return its DN."""
        dn = f"CN={_rdn_value(name)},{ou_dn or f'CN=Users,{self.base_dn}'}"
        attrs: dict[str, list[bytes]] = {
            "objectClass": [b"top", b"group"],
            "sAMAccountName": [_encode(name)],
        }
        if member_values := [_encode(m) for m in members]:
            attrs["member"] = member_values
        self.admin.add_s(dn, list(attrs.items()))
        return dn

    def add_members(self, group_dn: str, members: Iterable[str]) -> None:
        values = [_encode(m) for m in members]
        self.admin.modify_s(group_dn, [(ldap.MOD_ADD, "member", values)])

    def remove_members(self, group_dn: str, members: Iterable[str]) -> None:
        values = [_encode(m) for m in members]
        self.admin.modify_s(group_dn, [(ldap.MOD_DELETE, "member", values)])

    def modify(self, dn: str, changes: Mapping[str, Change]) -> None:
        """Replace each attribute's values; ``None`` or ``[]`` clears the attribute."""
        modlist = []
        for name, value in changes.items():
            values = _values(value)
            modlist.append((ldap.MOD_REPLACE, name, values or None))
        self.admin.modify_s(dn, modlist)

    def set_password(self, dn: str, password: str) -> None:
        """Set a user's password (an administrative reset) and enable the account."""
        self.admin.modify_s(dn, [(ldap.MOD_REPLACE, "unicodePwd", [_unicode_pwd(password)])])
        control = self.search(dn, attributes=["userAccountControl"])[0][1]["userAccountControl"]
        enabled = int(control[0]) & ~ACCOUNT_DISABLED
        self.admin.modify_s(dn, [(ldap.MOD_REPLACE, "userAccountControl", [_encode(enabled)])])

    def move(self, dn: str, *, new_parent: str | None = None, new_rdn: str | None = None) -> str:
        """Rename and/or move an object; return its new DN."""
        rdn, parent = ldap.dn.explode_dn(dn)[0], ",".join(ldap.dn.explode_dn(dn)[1:])
        rdn = new_rdn or rdn
        self.admin.rename_s(dn, rdn, new_parent, delold=1)
        return f"{rdn},{new_parent or parent}"

    def delete(self, dn: str) -> None:
        """Delete an object (it becomes a tombstone in Deleted Objects, as in AD)."""
        self.admin.delete_s(dn)

    def restore(self, guid: bytes, dn: str) -> str:
        """Restore a deleted object (AD "undelete") to ``dn``; return ``dn``."""
        show_deleted = LDAPControl(SHOW_DELETED_OID, True, None)
        # Samba reanimates only through the tombstone's own DN, not a <GUID=...> DN.
        found = self.admin.search_ext_s(
            f"<GUID={uuid.UUID(bytes_le=guid)}>", ldap.SCOPE_BASE, "(isDeleted=TRUE)",
            ["1.1"], serverctrls=[show_deleted],
        )  # fmt: skip
        target = found[0][0]
        modlist = [
            (ldap.MOD_DELETE, "isDeleted", None),
            (ldap.MOD_REPLACE, "distinguishedName", [_encode(dn)]),
        ]
        self.admin.modify_ext_s(target, modlist, serverctrls=[show_deleted])
        return dn

    def object_guid(self, dn: str) -> bytes:
        """The objectGUID of ``dn``, as the 16 bytes AD stores."""
        guid: bytes = self.search(dn, attributes=["objectGUID"])[0][1]["objectGUID"][0]
        return guid

    def search(
        self,
        base: str,
        filterstr: str = "(objectClass=*)",
        *,
        scope: int = ldap.SCOPE_BASE,
        attributes: Sequence[str] | None = None,
    ) -> list[tuple[str, dict[str, list[bytes]]]]:
        found: list[Any] = self.admin.search_s(base, scope, filterstr, attributes)
        return [(dn, attrs) for dn, attrs in found if dn is not None]

    def load_ldif(self, path: Path, *, password: str = USER_PASSWORD) -> list[str]:
        """Load an ldifde-style export (such as the Contoso sample); return the DNs added.

        objectGUID and objectSid are the DC's to assign, so they are dropped; every user
        gets ``password`` and keeps the enabled/disabled bit of its userAccountControl.
        """
        with path.open("rb") as stream:
            records = LDIFRecordList(stream)
            records.parse()
        added = []
        for dn, entry in records.all_records:
            # The DC has its own critical system groups (Domain Admins...); managers stay
            # out of the seed (a user may name one written after her), tests that need
            # them set their own.
            if entry.get("isCriticalSystemObject") == [b"TRUE"]:
                continue
            dropped = {"objectGUID", "objectSid", "manager"}
            attrs = {k: v for k, v in entry.items() if k not in dropped}
            if b"user" in attrs.get("objectClass", []):
                control = int(attrs.pop("userAccountControl", [b"512"])[0])
                attrs["unicodePwd"] = [_unicode_pwd(password)]
                attrs["userAccountControl"] = [_encode(control)]
            self.admin.add_s(dn, list(attrs.items()))
            added.append(dn)
        return added
