from __future__ import annotations

import json

import pytest

from hybridsync.core.objects import PendingExport
from hybridsync.core.ports import ExportKind
from hybridsync.expressions.values import MultiValue
from hybridsync.store.codec import Reference as StoredReference
from hybridsync.store.codec import (
    dump_attributes,
    dump_lineage,
    dump_pending,
    load_attributes,
    load_lineage,
    load_pending,
)

EVERY_KIND = {
    "name": ("Zoë Ünal",),
    "guid": (b"\x00\xff\x10",),
    "manager": (StoredReference("CN=Boss,DC=contoso,DC=com"),),
    "flags": (512, True, False),
    "huge": (2**70,),
    "tagged lookalike": ('{"x":"AA=="}', '{"r":"CN=x"}'),
    "empty": (),
}


def test_every_value_kind_round_trips() -> None:
    text = dump_attributes(EVERY_KIND)
    assert load_attributes(text) == {k: v for k, v in EVERY_KIND.items() if v}
    assert load_attributes(dump_attributes({"plain": ("a", 1)})) == {"plain": ("a", 1)}
    assert load_attributes(None) == {}


def test_an_expression_multivalue_is_stored_as_its_values() -> None:
    text = dump_attributes({"proxyAddresses": MultiValue(("SMTP:a@b", "smtp:c@d"))})
    assert load_attributes(text) == {"proxyAddresses": ("SMTP:a@b", "smtp:c@d")}


def test_text_written_by_the_standard_library_reads_the_same() -> None:
    # Stores written before the orjson codec hold ASCII-escaped JSON with lists.
    old = json.dumps({"name": ["Zo\u00eb"], "guid": [{"x": "AP8Q"}], "m": [{"r": "CN=a"}]})
    assert load_attributes(old) == {
        "name": ("Zoë",),
        "guid": (b"\x00\xff\x10",),
        "m": (StoredReference("CN=a"),),
    }


def test_pending_exports_and_lineage_round_trip() -> None:
    pending = PendingExport(ExportKind.UPDATE, {"guid": (b"\x01",), "title": ("x",)})
    text = dump_pending(pending)
    assert text is not None
    assert text.startswith('{"kind":"update"')
    assert load_pending(text) == pending
    assert load_pending(dump_pending(PendingExport(ExportKind.DELETE))) == PendingExport(
        ExportKind.DELETE
    )
    assert load_lineage(dump_lineage({"b": "r2", "a": "r1"})) == {"a": "r1", "b": "r2"}


def test_a_value_of_an_unknown_type_is_refused() -> None:
    with pytest.raises(TypeError, match="set"):
        dump_attributes({"bad": ({1},)})  # type: ignore[dict-item]
