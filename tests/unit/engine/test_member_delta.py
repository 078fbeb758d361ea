"""A delta import that names member changes (Graph's ``members@delta``): applied to the
members the connector space holds, with export status memory and drift as for whole lists."""

from __future__ import annotations

from typing import Any

from hybridsync.core.objects import CSObject, PendingImport
from hybridsync.core.ports import ImportedObject, ImportKind, ValueChanges
from hybridsync.core.runs import Profile
from hybridsync.core.values import Reference
from hybridsync.engine.imports import import_one
from hybridsync.engine.report import RunReport
from hybridsync.wiring import Built

ANN, BOB, CAT = (Reference(name) for name in ("ann-id", "bob-id", "cat-id"))
GROUP = "CN={g1}"


def _hold(built: Built, members: tuple[Reference, ...], sent: tuple[Reference, ...]) -> None:
    """The cloud group as an export left it: ``members`` imported, ``sent`` unconfirmed."""
    group = CSObject(
        "cs-g1", "cloud", "g1", GROUP, "group", {"displayName": ("Partners",), "members": members},
        unconfirmed={"members": sent} if sent else {},
    )  # fmt: skip
    with built.store.transaction():
        built.store.put_cs_many([group])


def _delta(built: Built, added: tuple[Reference, ...], removed: tuple[Reference, ...]) -> CSObject:
    changes = {"members": ValueChanges(added, removed)}
    item = ImportedObject("g1", GROUP, "group", {}, ImportKind.UPDATE, value_changes=changes)
    import_one(built.engine.context, "cloud", item, RunReport("cloud", Profile.DELTA_IMPORT))
    found = built.store.cs_by_anchors("cloud", ["g1"])["g1"]
    assert found.attributes["displayName"] == ("Partners",)  # not named: kept
    return found


def test_an_export_confirmed_by_the_member_changes_needs_no_sync(world: Any) -> None:
    built = world.engine()
    _hold(built, (ANN, BOB), sent=(ANN, BOB, CAT))
    group = _delta(built, added=(CAT,), removed=())
    assert set(group.attributes["members"]) == {ANN, BOB, CAT}
    assert group.unconfirmed == {}
    assert group.pending_import is PendingImport.NONE


def test_a_member_removed_in_the_cloud_by_someone_else_is_drift(world: Any) -> None:
    built = world.engine()
    _hold(built, (ANN, BOB), sent=())
    group = _delta(built, added=(), removed=(BOB,))
    assert group.attributes["members"] == (ANN,)
    assert group.pending_import is PendingImport.UPDATE  # sync puts Bob back


def test_a_member_added_in_the_cloud_by_someone_else_is_drift(world: Any) -> None:
    built = world.engine()
    _hold(built, (ANN,), sent=())
    group = _delta(built, added=(CAT,), removed=())
    assert group.attributes["members"] == (ANN, CAT)
    assert group.pending_import is PendingImport.UPDATE


def test_member_changes_read_twice_land_on_the_same_members(world: Any) -> None:
    """A crash before the delta's watermark is stored makes the next run read it again."""
    built = world.engine()
    _hold(built, (ANN, BOB), sent=())
    first = _delta(built, added=(CAT,), removed=(ANN,))
    again = _delta(built, added=(CAT,), removed=(ANN,))
    assert first.attributes["members"] == again.attributes["members"] == (BOB, CAT)
