"""A test-only PasswordChangeFeed over the Samba fixture's LDAP connection.

The AD connector provides the real feed; this one shows the contract with a
``uSNChanged`` watermark: the DC's ``highestCommittedUSN`` is read before searching, so a
change made during the search is read again next time rather than lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import ldap
from tests.support.samba import SambaDC

from hybridsync.core.ports import ImportedObject, ImportKind, ImportPage


class UsnPasswordFeed:
    def __init__(self, dc: SambaDC, base_dn: str) -> None:
        self.dc = dc
        self.base_dn = base_dn

    def password_changes(self, watermark: str | None) -> Iterator[ImportPage]:
        highest = self.dc.search("", attributes=["highestCommittedUSN"])[0][1]
        next_watermark = highest["highestCommittedUSN"][0].decode()
        changed = "" if watermark is None else f"(uSNChanged>={int(watermark) + 1})"
        found = self.dc.search(
            self.base_dn,
            f"(&(objectCategory=person)(objectClass=user){changed})",
            scope=ldap.SCOPE_SUBTREE,
            attributes=["objectGUID", "pwdLastSet"],
        )
        records = [
            ImportedObject(
                anchor=str(uuid.UUID(bytes_le=attrs["objectGUID"][0])),
                dn=dn,
                object_type="user",
                attributes={"pwdLastSet": (attrs["pwdLastSet"][0].decode(),)},
                kind=ImportKind.UPDATE,
            )
            for dn, attrs in found
        ]
        yield ImportPage(records, next_watermark)
