from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hybridsync.core.ports import ImportedObject, ImportKind, ImportPage
from hybridsync.engine import Profile, Status
from hybridsync.errors import TransientConnectorError


def _users(world: Any, count: int, prefix: str = "u") -> list[str]:
    return [world.user(f"{prefix}{i}") for i in range(count)]


def test_deletion_threshold_stops_before_deleting_anything(world: Any) -> None:
    world.set_users(*_users(world, 12))
    built = world.engine(safety={"deletion_threshold": 5})
    built.engine.cycle("initial")
    world.set_users(*_users(world, 6))  # 6 users gone
    cycle = built.engine.cycle("delta", allow_shrink=True)
    export = cycle.runs[-1]
    assert export.profile is Profile.EXPORT
    assert export.status == Status.STOPPED_DELETION_THRESHOLD
    assert "6 deletes" in export.message
    assert len(world.by_upn(built)) == 12
    assert all(change.kind.value != "delete" for change in world.cloud(built).sent)
    override = built.engine.run("cloud", Profile.EXPORT, allow_deletes=True)
    assert override.status == Status.SUCCESS
    assert override.counts["delete"] == 6
    assert len(world.by_upn(built)) == 6


@pytest.mark.parametrize(("window", "stopped"), [(None, False), (60, True)])
def test_deletes_exported_within_the_window_count_against_the_threshold(
    world: Any, window: float | None, stopped: bool
) -> None:
    # Two small exports of 4 deletes each, under a threshold of 5: alone each passes; over
    # a window the second one is 8 deletes in an hour and stops.
    world.set_users(*_users(world, 12))
    safety = {"deletion_threshold": 5, "deletion_window_minutes": window}
    built = world.engine(safety=safety)
    built.engine.cycle("initial")
    world.set_users(*_users(world, 8))
    first = built.engine.cycle("delta", allow_shrink=True).runs[-1]
    assert (first.status, first.counts.get("delete")) == (Status.SUCCESS, 4)
    world.set_users(*_users(world, 4))
    second = built.engine.cycle("delta", allow_shrink=True).runs[-1]
    assert second.profile is Profile.EXPORT
    if not stopped:
        assert (second.status, second.counts.get("delete")) == (Status.SUCCESS, 4)
        return
    assert second.status == Status.STOPPED_DELETION_THRESHOLD
    assert "4 deletes are staged and 4 were exported in the last 60 minutes" in second.message
    assert len(world.by_upn(built)) == 8
    override = built.engine.run("cloud", Profile.EXPORT, allow_deletes=True)
    assert (override.status, override.counts.get("delete")) == (Status.SUCCESS, 4)


def test_deletion_threshold_as_a_percentage(world: Any) -> None:
    world.set_users(*_users(world, 10))
    built = world.engine(safety={"deletion_threshold": None, "deletion_threshold_percent": 20})
    built.engine.cycle("initial")
    world.set_users(*_users(world, 7))
    cycle = built.engine.cycle("delta", allow_shrink=True)
    assert cycle.runs[-1].status == Status.STOPPED_DELETION_THRESHOLD


def test_an_empty_source_is_refused_and_changes_nothing(world: Any) -> None:
    world.set_users(*_users(world, 3))
    built = world.engine()
    built.engine.cycle("initial")
    world.set_users()
    for kind in ("delta", "initial"):
        cycle = built.engine.cycle(kind)
        imported = cycle.runs[0]
        assert imported.status == Status.STOPPED_IMPORT_REFUSED
        assert "returned none of the 3 objects" in imported.message
        assert built.store.count_cs("ad") == 3
        assert not built.store.cs_ids("ad", pending_only=True)
        assert len(world.by_upn(built)) == 3


def test_a_much_smaller_source_is_refused_unless_allowed_once(world: Any) -> None:
    world.set_users(*_users(world, 30))
    built = world.engine(safety={"deletion_threshold": 1000})
    built.engine.cycle("initial")
    world.set_users(*_users(world, 10))
    refused = built.engine.run("ad", Profile.FULL_IMPORT)
    assert refused.status == Status.STOPPED_IMPORT_REFUSED
    assert "10 of 30" in refused.message
    assert not built.store.cs_ids("ad", pending_only=True)
    allowed = built.engine.run("ad", Profile.FULL_IMPORT, allow_shrink=True)
    assert allowed.status == Status.SUCCESS
    assert allowed.counts["deleted"] == 20


def test_a_failed_import_changes_nothing(world: Any) -> None:
    world.set_users(*_users(world, 3))
    built = world.engine()
    built.engine.cycle("initial")
    world.ldif.unlink()
    cycle = built.engine.cycle("delta")
    assert cycle.runs[0].status == Status.STOPPED_CONNECTOR
    assert "cannot read" in cycle.runs[0].message
    assert built.store.count_cs("ad") == 3
    assert not built.store.cs_ids("ad", pending_only=True)
    assert "ad: sync skipped because its import stopped" in cycle.notes


def test_a_first_import_that_fails_halfway_leaves_the_space_empty(
    world: Any, monkeypatch: Any
) -> None:
    # A first import writes without a staging table, all in one transaction.
    world.set_users(*_users(world, 5))
    built = world.engine()
    source = built.connectors["ad"]
    (page,) = source.full_import()
    assert len(page.objects) == 5

    def fails_after_a_page() -> Iterator[ImportPage]:
        yield page
        raise TransientConnectorError("cannot read: the server went away")

    monkeypatch.setattr(source, "full_import", fails_after_a_page)
    failed = built.engine.run("ad", Profile.FULL_IMPORT)
    assert failed.status == Status.STOPPED_CONNECTOR
    assert built.store.count_cs("ad") == 0
    assert built.store.connector_state("ad").watermark is None
    monkeypatch.undo()
    assert built.engine.cycle("initial").status == "success"
    assert len(world.by_upn(built)) == 5


def test_staging_mode_imports_and_syncs_but_never_exports(world: Any) -> None:
    world.set_users(*_users(world, 4))
    built = world.engine(staging_mode=True)
    cycle = built.engine.cycle("initial")
    assert [run.profile for run in cycle.runs].count(Profile.EXPORT) == 0
    assert "cloud: staging mode, export skipped" in cycle.notes
    assert built.store.count_mv() == 4
    assert len(built.store.cs_ids_to_export("cloud")) == 4
    assert not world.cloud(built).sent
    forced = built.engine.run("cloud", Profile.EXPORT)
    assert forced.status == Status.STOPPED_STAGING
    assert not world.cloud(built).sent


def test_the_error_limit_stops_the_run(world: Any) -> None:
    world.set_users(*(world.user(f"p{i}", upn=None, userPrincipalName=None) for i in range(5)))
    built = world.engine(
        safety={"error_limit": 3, "batch_size": 2},
        user_type={"source": "upn-suffix", "suffixes": ["@partners.contoso.com"]},
    )
    built.engine.run("ad", Profile.FULL_IMPORT)
    report = built.engine.run("ad", Profile.FULL_SYNC)
    assert report.status == Status.STOPPED_ERROR_LIMIT
    assert len(report.errors) == 4


def test_a_rule_change_requires_a_full_sync_and_the_engine_says_so(world: Any) -> None:
    world.set_users(*_users(world, 2))
    built = world.engine()
    built.engine.cycle("initial")
    built.close()
    changed = world.engine(user_type={"source": "attribute"})
    stopped = changed.engine.run("ad", Profile.DELTA_SYNC)
    assert stopped.status == Status.STOPPED_FULL_SYNC_REQUIRED
    assert "run a full sync" in stopped.message
    cycle = changed.engine.cycle("delta")
    assert "ad: the sync rules changed, a full sync is required and was run" in cycle.notes
    assert any(run.profile is Profile.FULL_SYNC for run in cycle.runs)


def test_an_attribute_list_change_requires_a_full_import(world: Any) -> None:
    world.set_users(*_users(world, 2))
    built = world.engine()
    built.engine.cycle("initial")
    built.close()
    entry = {
        "type": "ldif",
        "name": "ad",
        "path": str(world.ldif),
        "attributes": ["sAMAccountName", "userPrincipalName", "objectGUID"],
    }
    narrowed = world.engine(
        connectors=[
            entry,
            {"type": "recording", "name": "cloud", "path": str(world.tmp / "cloud.db")},
        ]
    )
    stopped = narrowed.engine.run("ad", Profile.DELTA_IMPORT)
    assert stopped.status == Status.STOPPED_FULL_IMPORT_REQUIRED
    cycle = narrowed.engine.cycle("delta")
    assert "ad: the attribute list changed, a full import is required and was run" in cycle.notes


def test_deletes_of_objects_never_held_do_not_count_for_the_import_guard(world: Any) -> None:
    # AD's USN mode reports every tombstone of the domain, in scope or not.
    world.set_users(*_users(world, 30))
    built = world.engine()
    built.engine.cycle("initial")
    world.set_users(*_users(world, 29))  # one real delete, and 40 the space never held
    source = built.connectors["ad"]
    real_delta = source.delta_import

    def delta_with_strangers(watermark: str) -> Iterator[ImportPage]:
        strangers = [
            ImportedObject(f"stranger-{i}", f"CN=s{i},OU=Elsewhere", "user", {}, ImportKind.DELETE)
            for i in range(40)
        ]
        yield ImportPage(strangers)
        yield from real_delta(watermark)

    source.delta_import = delta_with_strangers
    run = built.engine.run("ad", Profile.DELTA_IMPORT)
    assert run.status == Status.SUCCESS, run.message
    assert run.counts["deleted"] == 1
