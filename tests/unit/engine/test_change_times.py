"""The change-to-export latency: a delta import's ``changed_at`` is carried through sync
to the export of the metaverse object's change, one observation per exported change."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from hybridsync.cli.admin.metrics import ServiceMetrics
from hybridsync.core.ports import ImportPage
from hybridsync.engine import Profile, Status
from hybridsync.engine.latency import ChangeTimes

AGO = 3.0


def stamped(source: Any, changed_at: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """The LDIF source's delta, each record saying it changed at ``changed_at``, as AD's
    whenChanged does (the LDIF format has no such time)."""
    delta = source.delta_import

    def with_times(watermark: str) -> Iterator[ImportPage]:
        for page in delta(watermark):
            objects = [replace(obj, changed_at=changed_at) for obj in page.objects]
            yield replace(page, objects=objects)

    monkeypatch.setattr(source, "delta_import", with_times)


def test_each_exported_change_is_measured_from_its_change(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.set_users(world.user("ann"), world.user("bob"), world.user("cy"))
    built = world.engine()
    assert built.engine.cycle("initial").status == Status.SUCCESS
    world.put(world.user("ann", title="One"))
    world.put(world.user("bob", title="Two"))
    stamped(built.connectors["ad"], time.time() - AGO, monkeypatch)

    cycle = built.engine.cycle("delta")

    [export] = [run for run in cycle.runs if run.profile is Profile.EXPORT]
    assert export.counts.get("update") == 2
    assert len(export.change_latencies) == 2
    assert all(AGO <= seconds < AGO + 5 for seconds in export.change_latencies)
    metrics = ServiceMetrics()
    metrics.observe_cycle(cycle)
    assert metrics.registry.get_sample_value("hybridsync_change_to_export_seconds_count") == 2

    # A cycle without new changes observes nothing, even when it exports again.
    again = built.engine.cycle("delta")
    assert all(not run.change_latencies for run in again.runs)


def test_times_are_the_earliest_and_are_forgotten_unless_linked() -> None:
    times = ChangeTimes()
    times.imported("ad", "a1", 100.0)
    times.imported("ad", "a1", 90.0)
    times.linked("ad", "a1", "mv1")
    times.linked("ad", "a2", "mv2")  # no change time was imported for it
    assert times.exported("mv2") is None
    latency = times.exported("mv1")
    assert latency is not None
    assert latency > time.time() - 91  # from 90, the earlier time, not from 100
    times.clear()
    assert times.exported("mv1") is None


def test_a_clock_ahead_of_ours_is_never_a_negative_latency() -> None:
    times = ChangeTimes()
    times.imported("ad", "a1", time.time() + 60)
    times.linked("ad", "a1", "mv1")
    assert times.exported("mv1") == 0.0
