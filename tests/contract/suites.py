"""Contract suites every connector must pass, whatever it talks to.

A connector's test module subclasses a suite and provides the ``connector`` fixture
(and, for sources, ``mutate``: a function that changes the connected directory: one
object renamed/changed, one deleted, one added).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hybridsync.core.ports import (
    AttributeChange,
    Capabilities,
    Connector,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ImportKind,
    SupportsDeltaImport,
    SupportsExport,
    SupportsFullImport,
)


def _all(pages: Any) -> list[Any]:
    return [obj for page in pages for obj in page.objects]


class SourceSuite:
    """Full import, delta import, capabilities."""

    tells_added_from_changed = True
    """Whether a delta marks a new object ``ADD``. A source that cannot tell (AD: neither
    DirSync nor a ``uSNChanged`` search says whether an object is new) sends ``REPLACE``,
    which carries all its attributes too; the engine stages both alike."""

    def test_declares_what_it_implements(self, connector: Connector) -> None:
        assert isinstance(connector, Connector)
        capabilities = connector.capabilities
        assert isinstance(capabilities, Capabilities)
        assert capabilities.full_import == isinstance(connector, SupportsFullImport)
        assert capabilities.delta_import == isinstance(connector, SupportsDeltaImport)

    def test_full_import_has_unique_anchors_and_ends_with_a_watermark(self, connector: Any) -> None:
        pages = list(connector.full_import())
        objects = _all(pages)
        assert objects
        assert len({obj.anchor for obj in objects}) == len(objects)
        assert all(obj.kind is ImportKind.PRESENT and obj.dn and obj.object_type for obj in objects)
        assert all(
            isinstance(values, tuple) for obj in objects for values in obj.attributes.values()
        )
        assert pages[-1].watermark is not None

    def test_delta_after_a_change_a_delete_and_an_add(
        self, connector: Any, mutate: Callable[[], tuple[str, str, str]]
    ) -> None:
        watermark = list(connector.full_import())[-1].watermark
        changed, _deleted, added = mutate()
        changes = {
            obj.dn or obj.anchor: obj.kind for obj in _all(connector.delta_import(watermark))
        }
        kinds = set(changes.values())
        assert ImportKind.DELETE in kinds
        assert any(
            dn == changed and kind in {ImportKind.REPLACE, ImportKind.UPDATE}
            for dn, kind in changes.items()
        )
        added_kinds = {ImportKind.ADD}
        if not self.tells_added_from_changed:
            added_kinds.add(ImportKind.REPLACE)
        assert changes.get(added) in added_kinds
        assert len(changes) == 3, changes

    def test_delta_with_no_change_is_empty(self, connector: Any) -> None:
        watermark = list(connector.full_import())[-1].watermark
        assert _all(connector.delta_import(watermark)) == []


class TargetSuite:
    """Export add/update/delete with one result each, read back, import confirms."""

    def test_add_update_delete_round_trip(self, connector: Any) -> None:
        assert isinstance(connector, SupportsExport)
        add = ExportChange(
            "c1",
            ExportKind.ADD,
            None,
            "CN=ann",
            "user",
            (AttributeChange("displayName", ("Ann",)),),
        )
        (result,) = list(connector.export([add]))
        assert result.change_id == "c1"
        assert result.outcome is ExportOutcome.APPLIED
        assert result.anchor
        imported = {obj.anchor: obj for obj in _all(connector.full_import())}
        assert imported[result.anchor].attributes["displayName"] == ("Ann",)
        update = ExportChange(
            "c2",
            ExportKind.UPDATE,
            result.anchor,
            "CN=ann",
            "user",
            (AttributeChange("displayName", ("Ann B",)),),
        )
        assert next(iter(connector.export([update]))).outcome is ExportOutcome.APPLIED
        found = connector.read_back(update)
        assert found is not None
        assert found.attributes["displayName"] == ("Ann B",)
        delete = ExportChange("c3", ExportKind.DELETE, result.anchor, "CN=ann", "user")
        assert next(iter(connector.export([delete]))).outcome is ExportOutcome.APPLIED
        assert connector.read_back(delete) is None

    def test_a_change_to_a_missing_object_is_rejected_not_raised(self, connector: Any) -> None:
        update = ExportChange(
            "c9",
            ExportKind.UPDATE,
            "no-such-anchor",
            "CN=x",
            "user",
            (AttributeChange("displayName", ("X",)),),
        )
        (result,) = list(connector.export([update]))
        assert result.outcome is ExportOutcome.REJECTED
        assert result.message
