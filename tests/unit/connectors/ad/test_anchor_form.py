"""An AD entry whose objectGUID is not 16 bytes is an unreadable record naming the DN and
the attribute, never a record under another anchor (the engine then keeps the object).

A real DC always sends 16 bytes, so this is checked against a scripted server; the engine's
side of it runs through the LDIF connector (tests/unit/engine/test_anchor_form.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from hybridsync.connectors.ad.convert import guid_dn, guid_text
from hybridsync.connectors.ad.reader import Reader
from hybridsync.connectors.ad.scope import Scope
from hybridsync.core.ports import ImportKind

DOMAIN = "DC=corp,DC=contoso,DC=com"
GOOD = uuid.uuid4()
RawEntry = tuple[str, dict[str, list[bytes]]]


@dataclass
class ScriptedServer:
    """Answers every search with the same page."""

    page: list[RawEntry]

    def resuming_search(
        self, base: str, filterstr: str, attributes: Sequence[str]
    ) -> Iterator[list[RawEntry]]:
        yield self.page


def _entry(cn: str, guid: bytes) -> RawEntry:
    return f"CN={cn},{DOMAIN}", {"objectGUID": [guid], "sAMAccountName": [cn.encode()]}


def _reader(page: list[RawEntry]) -> Reader:
    server = ScriptedServer(page)
    return Reader(server, Scope(DOMAIN), ("objectGUID", "sAMAccountName"), ("user",))  # type: ignore[arg-type]


def test_a_full_import_reports_a_short_guid_and_keeps_reading() -> None:
    reader = _reader([_entry("bad", b"0123456789"), _entry("good", GOOD.bytes_le)])

    (records,) = list(reader.full())
    (unreadable,) = reader.take_unreadable()

    assert [record.anchor for record in records] == [str(GOOD)]
    assert unreadable.dn == f"CN=bad,{DOMAIN}"
    assert unreadable.anchor is None  # the engine finds the stored object by its DN
    assert unreadable.message == "attribute objectGUID holds 10 bytes, not a 16-byte GUID"
    assert reader.take_unreadable() == []


def test_an_update_or_a_deletion_with_a_bad_guid_is_reported_too() -> None:
    reader = _reader([])
    long_guid = _entry("long", bytes(20))

    assert reader.record(long_guid, "user", ImportKind.UPDATE) is None
    assert reader.deletion(_entry("empty", b""), "user") is None

    messages = [record.message for record in reader.take_unreadable()]
    assert messages == [
        "attribute objectGUID holds 20 bytes, not a 16-byte GUID",
        "attribute objectGUID holds 0 bytes, not a 16-byte GUID",
    ]


def test_one_guid_helper_reads_an_anchor_and_makes_the_dn_ad_takes() -> None:
    anchor = "6F1D2C3B-0000-4000-8000-000000000001"
    assert guid_text(anchor) == anchor.lower()
    assert guid_text("{" + anchor + "}") == anchor.lower()
    assert guid_text("CN=x,DC=corp") is None
    assert guid_dn(anchor) == f"<GUID={anchor.lower()}>"
    with pytest.raises(ValueError, match="hexadecimal"):
        guid_dn("*)(objectClass=*")
