from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridsync.connectors.ldif import LdifConfig, LdifSource, LdifSyntaxError, read_records
from hybridsync.connectors.ldif.convert import anchor_of
from hybridsync.connectors.ldif.parser import LdifRecord
from hybridsync.errors import FatalConnectorError

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "contoso-20.ldif"
GUID = uuid.UUID("6f9619ff-8b86-d011-b42d-00c04fc964ff")


def test_folded_lines_base64_and_comments() -> None:
    text = (
        "version: 1\n# a comment\ndn: CN=Zoë,DC=contoso,DC=com\n"
        "description: a long\n  value folded\n"
        f"objectGUID:: {base64.b64encode(GUID.bytes_le).decode()}\n"
        f"displayName:: {base64.b64encode('Zoë Ünal'.encode()).decode()}\n"
        "changetype: add\n\n"
    )
    (record,) = read_records(text.splitlines(keepends=True))
    assert record.dn == "CN=Zoë,DC=contoso,DC=com"
    assert record.attributes["description"] == ["a long value folded"]
    assert record.attributes["objectGUID"] == [GUID.bytes_le]
    assert record.attributes["displayName"] == ["Zoë Ünal"]


def test_a_bad_record_is_reported_and_skipped_when_asked() -> None:
    text = "dn: CN=a\ncn a\n\ndn: CN=b\ncn: b\n"
    with pytest.raises(LdifSyntaxError, match="line 2"):
        list(read_records(text.splitlines()))
    problems: list[str] = []
    assert [r.dn for r in read_records(text.splitlines(), on_error=problems.append)] == ["CN=b"]
    assert len(problems) == 1


def test_full_import_of_the_sample(tmp_path: Path) -> None:
    source = LdifSource(LdifConfig(name="ad", path=SAMPLE))
    pages = list(source.full_import())
    objects = [obj for page in pages for obj in page.objects]
    assert len(objects) == 23
    assert pages[-1].watermark is not None
    moran = next(o for o in objects if o.dn.startswith("CN=William Moran"))
    assert moran.object_type == "user"
    assert moran.attributes["userAccountControl"] == (512,)
    assert isinstance(moran.attributes["objectGUID"][0], bytes)
    assert str(uuid.UUID(bytes_le=moran.attributes["objectGUID"][0])) == moran.anchor
    assert len(moran.attributes["proxyAddresses"]) == 2
    assert source.parameters()["Domain.FQDN"] == "contoso.com"
    assert source.parameters()["Domain.Netbios"] == "CONTOSO"


def test_delta_import_compares_with_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "ad.ldif"
    entries = SAMPLE.read_text(encoding="utf-8").split("\n\n")
    path.write_text("\n\n".join(entries), encoding="utf-8")
    source = LdifSource(LdifConfig(name="ad", path=path, page_size=2))
    watermark = list(source.full_import())[-1].watermark
    assert watermark is not None
    changed = [
        e.replace("department: Sales", "department: Finance") if "wmoran" in e else e
        for e in entries
    ]
    changed = [e for e in changed if "msullivan" not in e]
    path.write_text("\n\n".join(changed), encoding="utf-8")
    pages = list(source.delta_import(watermark))
    kinds = sorted((o.kind.value, o.dn.split(",")[0]) for page in pages for o in page.objects)
    assert kinds == [("delete", ""), ("replace", "CN=William Moran")]
    assert all(page.watermark is None for page in pages[:-1])
    assert next(iter(source.delta_import(pages[-1].watermark or ""))).objects == []


def test_unreadable_file_and_bad_watermark_are_fatal(tmp_path: Path) -> None:
    source = LdifSource(LdifConfig(name="ad", path=tmp_path / "missing.ldif"))
    with pytest.raises(FatalConnectorError, match="cannot read"):
        list(source.full_import())
    (tmp_path / "x.ldif").write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(FatalConnectorError, match="full import"):
        list(LdifSource(LdifConfig(name="ad", path=tmp_path / "x.ldif")).delta_import("garbage"))


def test_entries_without_an_anchor_are_skipped_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.ldif"
    path.write_text("dn: CN=a,DC=c\nobjectClass: user\ncn: a\n", encoding="utf-8")
    source = LdifSource(LdifConfig(name="ad", path=path))
    assert [o for p in source.full_import() for o in p.objects] == []
    assert source.skipped == ["CN=a,DC=c: no objectGUID"]


def test_streamed_blocks_match_whole_text_blocks_across_chunk_edges() -> None:
    import io

    from hybridsync.connectors.ldif.parser import split_blocks, stream_blocks

    text = SAMPLE.read_text(encoding="utf-8") + "\n\n\n# trailing comment\ndn: CN=last\ncn: last\n"
    whole = list(split_blocks(text))
    for size in (7, 100, 1000, 1 << 20):
        assert list(stream_blocks(io.StringIO(text), size)) == whole
    assert whole[1][0] == 5  # the first entry starts on line 5


TRICKY = (
    "\ufeffversion: 1\r\n\r\n# a comment block\n\ndn: CN=a\ncn: a  \n \n\t\n"
    "dn: CN=b\n# inside\ncn: b\n  folded\n\n\n\ndn: CN=c\rcn: c\r\r"
    "dn: CN=Zoë\ncn: Zoë\n   \n\ndn: CN=d\ncn: d\n\n  \ndn: CN=e\ncn: e\n"
)


@pytest.mark.parametrize("text", [TRICKY, TRICKY.rstrip("\n"), TRICKY + "\n\n  \n"])
def test_raw_blocks_are_the_blocks_of_the_decoded_text(text: str) -> None:
    import io

    from hybridsync.connectors.ldif.blocks import raw_blocks
    from hybridsync.connectors.ldif.parser import split_blocks

    decoded = io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8-sig").read()
    whole = list(split_blocks(decoded))
    assert [dn for _, block in whole if (dn := block.split("\n")[0]).startswith("dn")] == [
        "dn: CN=a", "dn: CN=b", "dn: CN=c", "dn: CN=Zoë", "dn: CN=d", "dn: CN=e",
    ]  # fmt: skip
    for size in (3, 7, 100, 1 << 20):
        found = [(n, b.decode()) for n, b in raw_blocks(io.BytesIO(text.encode()), size)]
        assert found == whole, size


def test_delta_import_parses_only_the_changed_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hybridsync.connectors.ldif import connector

    path = tmp_path / "ad.ldif"
    text = SAMPLE.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    source = LdifSource(LdifConfig(name="ad", path=path))
    watermark = list(source.full_import())[-1].watermark or ""
    parsed: list[int] = []
    original = connector.parse_block

    def counting(start: int, block: str, on_error: object = None) -> object:
        parsed.append(start)
        return original(start, block, on_error)  # type: ignore[arg-type]

    monkeypatch.setattr(connector, "parse_block", counting)
    path.write_text(text.replace("department: Sales", "department: Finance", 1), "utf-8")
    pages = list(source.delta_import(watermark))
    (changed,) = [obj for page in pages for obj in page.objects]
    assert changed.attributes["department"] == ("Finance",)
    # The changed record, and the version line that is not a record: nothing else.
    assert len(parsed) == 2
    broken = text.replace("department: Finance", "department: Fin\xe9", 1).encode("latin-1")
    path.write_bytes(broken.replace(b"department: Sales", b"department: Fin\xe9", 1))
    list(source.delta_import(watermark))
    assert any("not valid UTF-8" in problem for problem in source.skipped)


@given(st.binary(min_size=16, max_size=16), st.sampled_from(["objectGUID", "objectguid"]))
def test_a_binary_guid_anchor_reads_as_its_uuid_text(guid: bytes, spelled: str) -> None:
    record = LdifRecord("CN=x,DC=contoso,DC=com", {spelled: [guid]}, 1)
    assert anchor_of(record, "objectGUID") == str(uuid.UUID(bytes_le=guid))
