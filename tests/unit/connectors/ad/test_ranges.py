"""Ranged retrieval (``member;range=0-1499``), as AD returns large multi-valued attributes.

Samba returns every value at once, so this path is checked against a scripted server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hybridsync.connectors.ad.reader import Reader
from hybridsync.connectors.ad.scope import Scope
from hybridsync.core.ports import ImportKind
from hybridsync.core.values import Reference

DOMAIN = "DC=corp,DC=contoso,DC=com"
MEMBERS = [f"CN=u{i},{DOMAIN}".encode() for i in range(3500)]


@dataclass
class RangedServer:
    """Answers ``member;range=low-*`` with at most 1,500 values, as AD's MaxValRange does."""

    requests: list[str] = field(default_factory=list)

    def read_entry(self, dn: str, attributes: Sequence[str]) -> tuple[str, dict[str, list[bytes]]]:
        (wanted,) = attributes
        self.requests.append(wanted)
        low = int(wanted.split("=")[1].split("-")[0])
        high = min(low + 1499, len(MEMBERS) - 1)
        last = "*" if high == len(MEMBERS) - 1 else str(high)
        return dn, {f"member;range={low}-{last}": MEMBERS[low : high + 1]}


def test_all_ranges_are_fetched_and_joined() -> None:
    server = RangedServer()
    reader = Reader(server, Scope(DOMAIN), ("objectGUID", "member"), ("group",))  # type: ignore[arg-type]
    entry = (f"CN=Big,{DOMAIN}", {"objectGUID": [bytes(16)], "member;range=0-1499": MEMBERS[:1500]})
    record = reader.record(entry, "group", ImportKind.PRESENT)
    assert server.requests == ["member;range=1500-*", "member;range=3000-*"]
    assert record.attributes["member"] == tuple(Reference(m.decode()) for m in MEMBERS)
