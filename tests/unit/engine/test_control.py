"""Run control: progress events at every committed batch, and a stop request that ends
the run after the batch in progress, leaving a state the next cycle completes from."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from hybridsync.engine import Status
from hybridsync.engine.control import RunControl, RunProgress
from hybridsync.wiring import Built

USERS = 25
BATCH = 10


def small_batches(world: Any) -> Built:
    """Every phase in batches of ten: LDIF pages, sync batches, export batches."""
    built: Built = world.engine(
        safety={"batch_size": BATCH},
        connectors=[
            {"type": "ldif", "name": "ad", "path": str(world.ldif), "page_size": BATCH},
            {
                "type": "recording",
                "name": "cloud",
                "path": str(world.tmp / "cloud.db"),
                "batch_size": BATCH,
            },
        ],
    )
    return built


def contoso(world: Any) -> None:
    world.set_users(
        *(
            world.user(f"user{i:02d}", upn=f"user{i:02d}@partners.contoso.com" if i % 4 else None)
            for i in range(USERS)
        )
    )


def test_progress_events_arrive_per_batch_with_increasing_counts(world: Any) -> None:
    contoso(world)
    built = small_batches(world)
    events: list[RunProgress] = []
    built.engine.context.control.progress = events.append
    cycle = built.engine.cycle("initial")
    assert cycle.status == Status.SUCCESS
    by_run: dict[str, list[RunProgress]] = defaultdict(list)
    for event in events:
        by_run[event.run_id].append(event)
    assert list(by_run) == [run.run_id for run in cycle.runs]
    for run in cycle.runs:
        seen = by_run[run.run_id]
        assert (seen[0].done, seen[0].finished) == (0, False)
        assert seen[-1].finished
        assert not any(e.finished for e in seen[:-1])
        assert {(e.connector, e.phase) for e in seen} == {(run.connector, run.profile.value)}
        done = [e.done for e in seen]
        assert done == sorted(done)
    phases = {(r.connector, r.profile.value): by_run[r.run_id] for r in cycle.runs}
    # The AD import reads three pages (10, 10, 5): an event after each commit.
    assert [e.done for e in phases["ad", "full-import"]] == [0, 0, 10, 20, 25, 25]
    ad_sync = phases["ad", "full-sync"]
    assert [e.done for e in ad_sync if e.total is not None] == [0, 10, 20, 25, 25]
    assert ad_sync[-1].total == USERS
    export = phases["cloud", "export"]
    assert export[-1].done == export[-1].total == USERS
    assert len(export) == 1 + 1 + 3 + 1  # begin, total known, three batches, end


def reference(world: Any) -> dict[str, dict[str, Any]]:
    """What an uninterrupted initial cycle produces."""
    contoso(world)
    built = small_batches(world)
    assert built.engine.cycle("initial").status == Status.SUCCESS
    result: dict[str, dict[str, Any]] = world.by_upn(built)
    built.close()
    for name in ("state.db", "cloud.db"):
        (world.tmp / name).unlink()
    return result


def stop_at(control: RunControl, connector: str, phase: str, done: int) -> None:
    """Request a stop (as the SIGTERM handler does) once a phase reached ``done`` objects."""

    def watch(progress: RunProgress) -> None:
        if (progress.connector, progress.phase) == (connector, phase) and progress.done >= done:
            control.request_stop()

    control.progress = watch


@pytest.mark.parametrize(
    ("connector", "phase"),
    # (The target's full sync may have nothing to do: objects provisioned by outbound
    # rules need a sync only after an import.)
    [("ad", "full-import"), ("ad", "full-sync"), ("cloud", "export")],
)
def test_a_stop_ends_the_run_after_its_batch_and_the_next_cycle_completes(
    world: Any, connector: str, phase: str
) -> None:
    expected = reference(world)
    built = small_batches(world)
    stop_at(built.engine.context.control, connector, phase, 1)
    cycle = built.engine.cycle("initial")
    assert cycle.status == Status.STOPPED_BY_REQUEST
    last = cycle.runs[-1]
    assert (last.connector, last.profile.value) == (connector, phase)
    # The run stops after its first batch of ten, not at its end.
    assert last.status == Status.STOPPED_BY_REQUEST
    assert "stopped by request after 10 objects" in last.message
    recorded = {run.run_id: run.status for run in built.store.runs(limit=20)}
    assert recorded[last.run_id] == last.status
    assert world.by_upn(built) != expected
    built.engine.context.control = RunControl()
    follow = built.engine.cycle("delta")
    assert follow.status == Status.SUCCESS, follow.as_dict()
    assert world.by_upn(built) == expected


def test_a_stop_requested_before_a_cycle_starts_no_run(world: Any) -> None:
    contoso(world)
    built = small_batches(world)
    built.engine.context.control.request_stop()
    cycle = built.engine.cycle("initial")
    assert cycle.runs == []
    assert cycle.status == Status.STOPPED_BY_REQUEST
    assert cycle.notes == ["stopped by request: the next cycle runs the rest"]
