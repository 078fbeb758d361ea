"""Member changes of a delta import (Graph's ``members@delta``) applied to stored values."""

from __future__ import annotations

from hybridsync.core.ports import ImportedObject, ImportKind, ValueChanges
from hybridsync.core.values import Reference

ANN, BOB, CAT, DAN = (Reference(name) for name in ("ann", "bob", "cat", "dan"))


def test_additions_and_removals_land_on_the_stored_values_in_order() -> None:
    changes = ValueChanges(added=(DAN, CAT), removed=(ANN,))
    assert changes.applied_to((ANN, BOB)) == (BOB, DAN, CAT)


def test_applying_the_same_changes_again_changes_nothing() -> None:
    """A delta read again after a crash lands on the same members."""
    changes = ValueChanges(added=(CAT,), removed=(ANN,))
    once = changes.applied_to((ANN, BOB))
    assert changes.applied_to(once) == once == (BOB, CAT)


def test_a_member_added_twice_or_removed_while_absent_counts_once() -> None:
    assert ValueChanges(added=(BOB, BOB), removed=(DAN,)).applied_to((BOB,)) == (BOB,)


def test_an_update_keeps_what_it_does_not_name_and_applies_the_member_changes() -> None:
    update = ImportedObject(
        "g1", "CN={g1}", "group", {"displayName": ("Partners 2",)}, ImportKind.UPDATE,
        value_changes={"members": ValueChanges(added=(CAT,), removed=(BOB,))},
    )  # fmt: skip
    stored = {"displayName": ("Partners",), "mailNickname": ("p",), "members": (ANN, BOB)}
    assert update.updated(stored) == {
        "displayName": ("Partners 2",),
        "mailNickname": ("p",),
        "members": (ANN, CAT),
    }


def test_a_group_not_held_takes_its_added_members() -> None:
    """A group created since the last delta lists all its members as added."""
    update = ImportedObject(
        "g2", "CN={g2}", "group", {"displayName": ("New",)}, ImportKind.UPDATE,
        value_changes={"members": ValueChanges(added=(ANN, BOB))},
    )  # fmt: skip
    assert update.updated({}) == {"displayName": ("New",), "members": (ANN, BOB)}
