"""The LDIF connector reads an objectGUID anchor only as a GUID: any other form is an
unreadable record naming the DN and the attribute (the engine then keeps the object)."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from hybridsync.connectors.ldif import LdifConfig, LdifSource

GOOD = uuid.uuid4()


def _entry(cn: str, guid_line: str) -> str:
    return f"dn: CN={cn},DC=contoso,DC=com\n{guid_line}\nobjectClass: user\nsAMAccountName: {cn}\n"


def test_a_guid_of_the_wrong_size_is_unreadable_and_named(tmp_path: Path) -> None:
    path = tmp_path / "ad.ldif"
    path.write_text(
        "version: 1\n\n"
        + _entry("good", "objectGUID:: " + base64.b64encode(GOOD.bytes_le).decode())
        + "\n"
        + _entry("bad", "objectGUID:: " + base64.b64encode(b"short").decode()),
        encoding="utf-8",
    )
    connector = LdifSource(LdifConfig(name="ad", path=str(path)))

    pages = list(connector.full_import())

    objects = [obj for page in pages for obj in page.objects]
    unreadable = [record for page in pages for record in page.unreadable]
    assert [obj.anchor for obj in objects] == [str(GOOD)]
    (record,) = unreadable
    assert record.dn == "CN=bad,DC=contoso,DC=com"
    assert record.anchor is None  # its stored object is found by DN
    assert record.message == "attribute objectGUID holds 5 bytes, not a 16-byte GUID"
