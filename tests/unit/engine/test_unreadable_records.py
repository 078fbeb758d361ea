"""A source record that becomes unreadable is an object error, never a delete."""

from __future__ import annotations

from typing import Any

import pytest

from hybridsync.engine import Profile, Status

BROKEN_LINE = "this line has no colon"


def _break(entry: str, *, keep_dn: bool = True, keep_anchor: bool = True) -> str:
    lines = entry.rstrip("\n").split("\n")
    lines.insert(3, BROKEN_LINE)
    if not keep_anchor:
        lines = [line for line in lines if not line.startswith("objectGUID")]
    if not keep_dn:
        lines = [line.replace("dn: ", "dn:: @@", 1) for line in lines]
    return "\n".join(lines) + "\n"


def _stored(built: Any) -> dict[str, tuple[str | None, str]]:
    store = built.store
    return {
        cs.dn: (cs.pending_import.value if cs.pending_import else None, cs.anchor)
        for cs in store.get_cs_many(store.cs_ids("ad"))
    }


@pytest.mark.parametrize("kind", ["delta", "initial"])
@pytest.mark.parametrize("keep_anchor", [True, False])
def test_an_unreadable_record_is_an_object_error_and_keeps_its_object(
    world: Any, kind: str, keep_anchor: bool
) -> None:
    users = [world.user(f"u{i}", department="Sales") for i in range(4)]
    world.set_users(*users)
    built = world.engine()
    built.engine.cycle("initial")
    before = _stored(built)
    world.set_users(_break(users[0], keep_anchor=keep_anchor), *users[1:])
    for _ in range(2):  # reported again by each import while the record stays broken
        imported = built.engine.cycle(kind).runs[0]
        assert imported.status == Status.COMPLETED_ERRORS
        (error,) = imported.errors
        assert error.kind == "import"
        assert error.dn.startswith("CN=u0,OU=Staff,DC=contoso,DC=com (line 3)")
        broken_at = 6 if keep_anchor else 5  # record starts on line 3
        assert f"line {broken_at}" in error.message
        assert BROKEN_LINE in error.message
        assert error.anchor == before["CN=u0,OU=Staff,DC=contoso,DC=com"][1]
        assert [e.dn for e in built.store.run_errors(imported.run_id)] == [error.dn]
        assert imported.counts.get("deleted", 0) == 0
        assert _stored(built) == before
        assert "u0@contoso.com" in world.by_upn(built)
    # Fixed: the object is read again, and a real change still flows.
    world.set_users(world.user("u0", department="Legal"), *users[1:])
    imported = built.engine.cycle(kind).runs[0]
    assert imported.status == Status.SUCCESS
    assert world.by_upn(built)["u0@contoso.com"]["department"] == "Legal"


@pytest.mark.parametrize("kind", ["delta", "initial"])
def test_a_record_without_a_readable_dn_or_anchor_stops_every_delete_of_that_import(
    world: Any, kind: str
) -> None:
    users = [world.user(f"u{i}") for i in range(4)]
    world.set_users(*users)
    built = world.engine()
    built.engine.cycle("initial")
    # u0 unreadable beyond recognition, u3 really gone: u3 might be the broken record.
    world.set_users(_break(users[0], keep_dn=False, keep_anchor=False), users[1], users[2])
    imported = built.engine.cycle(kind).runs[0]
    (error,) = imported.errors
    assert error.dn == "line 3"
    assert error.anchor is None
    assert any("deleted nothing" in note for note in imported.notes)
    stored = _stored(built)
    assert len(stored) == 4
    assert all(pending != "delete" for pending, _ in stored.values())
    assert len(world.by_upn(built)) == 4
    # Once the record reads again, the real delete goes through.
    world.set_users(*users[:3])
    built.engine.cycle(kind, allow_shrink=True)
    assert sorted(world.by_upn(built)) == [f"u{i}@contoso.com" for i in range(3)]
    assert built.engine.run("ad", Profile.DELTA_IMPORT).status == Status.SUCCESS
