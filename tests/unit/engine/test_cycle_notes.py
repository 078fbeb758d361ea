"""What a cycle says about itself: notes that name the real reason, no run it skipped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hybridsync.engine import Profile, Status
from hybridsync.errors import TransientConnectorError


def test_the_first_cycle_on_a_fresh_store_does_not_claim_the_rules_changed(world: Any) -> None:
    world.set_users(world.user("u1"))
    cycle = world.engine().engine.cycle("delta")
    assert cycle.status == Status.SUCCESS
    assert not [note for note in cycle.notes if "rules changed" in note]
    assert "ad: no full sync has completed yet, so one was run" in cycle.notes
    assert cycle.runs[0].notes == ["no import has completed yet, so a full import was run"]


def test_a_rule_change_is_still_named_as_such(world: Any) -> None:
    world.set_users(world.user("u1"))
    world.engine().engine.cycle("initial")
    changed = world.engine(user_type={"source": "attribute"}).engine.cycle("delta")
    assert "ad: the sync rules changed, a full sync is required and was run" in changed.notes


def test_a_cycle_whose_imports_all_stopped_lists_no_export(world: Any, monkeypatch: Any) -> None:
    world.set_users(world.user("u1"))
    built = world.engine()
    built.engine.cycle("initial")
    world.ldif.unlink()

    def unreachable() -> Iterator[Any]:
        raise TransientConnectorError("cannot connect: the cloud is down")
        yield  # a generator, like the real import

    cloud = built.connectors["cloud"]
    monkeypatch.setattr(cloud, "full_import", unreachable)
    monkeypatch.setattr(cloud, "delta_import", lambda *_: unreachable())
    cycle = built.engine.cycle("delta")
    assert [run.status for run in cycle.runs] == [Status.STOPPED_CONNECTOR] * 2
    assert Profile.EXPORT not in [run.profile for run in cycle.runs]
    assert "cloud: export skipped because its import stopped" in cycle.notes
    assert cycle.status == Status.STOPPED_CONNECTOR
