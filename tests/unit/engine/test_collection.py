from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from hybridsync.engine.collection import (
    MIDDLE_THRESHOLD,
    OLD_THRESHOLD,
    YOUNG_THRESHOLD,
    fewer_collections,
)
from hybridsync.engine.control import RunProgress


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_runs_raise_the_young_threshold_and_the_last_one_restores_it(
    thresholds: tuple[int, int, int],
) -> None:
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
        with fewer_collections():  # an overlapping run (the scheduler's threads)
            assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD  # the first run still works
    assert gc.get_threshold() == thresholds


def test_a_failing_run_restores_the_thresholds(thresholds: tuple[int, int, int]) -> None:
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("the run failed")
    assert gc.get_threshold() == thresholds


def test_a_higher_threshold_set_by_the_application_is_kept(
    thresholds: tuple[int, int, int],
) -> None:
    gc.set_threshold(YOUNG_THRESHOLD * 2, 10, 10)
    with fewer_collections():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD * 2
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD * 2


def test_the_engine_runs_with_the_raised_threshold(
    world: Any, thresholds: tuple[int, int, int]
) -> None:
    world.set_users(*(world.user(f"u{i}") for i in range(3)))
    built = world.engine()
    seen: list[int] = []

    def progress(_event: RunProgress) -> None:
        seen.append(gc.get_threshold()[0])

    built.engine.context.control.progress = progress
    assert built.engine.cycle("initial").status == "success"
    assert YOUNG_THRESHOLD in seen
    assert gc.get_threshold() == thresholds
