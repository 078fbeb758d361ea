"""The groups benchmark runs small (LDIF source) and counts the Graph requests each side
sent: the counts are exact (the timings are not asserted)."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_groups", REPO_ROOT / "bench" / "groups.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_groups_benchmark_counts_the_requests_of_both_paths(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--users", "50", "--memberships", "2", "--source", "ldif", "--no-bytecode", "--json"]
    result = _bench().main(args)
    assert (result["users"], result["groups"], result["memberships"]) == (50, 5, 100)
    measured = result["ldif"]
    writes = {"user_creates": 50, "group_creates": 5, "member_additions": 100}
    for side in ("raw_requests", "initial_requests"):
        assert measured[side] | writes == measured[side], side
        assert measured[side]["member_removals"] == 0
        assert measured[side]["other_batched"] == 0
    # The raw side: users (3 $batch of 20), groups (1), members (5); nothing else but
    # its token request. hybridsync packs users and groups alike.
    assert measured["raw_requests"]["batch_requests"] == 9
    assert measured["initial_requests"]["batch_requests"] == 8
    # The delta: 50 users each left one group and joined another: 100 member writes
    # and nothing else, in 5 $batch requests of 20.
    delta = measured["delta_requests"]
    assert delta["member_additions"] == delta["member_removals"] == 50
    assert (delta["user_creates"], delta["group_creates"], delta["other_batched"]) == (0, 0, 0)
    assert delta["batch_requests"] == 5
    assert measured["initial_ratio"] == pytest.approx(
        measured["initial_wall_s"] / measured["raw_batch_s"], abs=0.01
    )
    # Each cycle's own duration (the engine's runs, first start to last end) holds its
    # phases and is within the process's wall time.
    for cycle in ("initial", "confirm", "delta"):
        phases = sum(measured[f"{cycle}_phases_s"].values())
        assert phases - 0.01 <= measured[f"{cycle}_cycle_s"] <= measured[f"{cycle}_wall_s"]
    out = capsys.readouterr().out
    assert '"delta_requests"' in out
    assert "load_average_start" in out
