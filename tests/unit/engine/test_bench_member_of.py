"""The ISMEMBEROF benchmark runs small, checks its own results and reports a ratio."""

from __future__ import annotations

import importlib.util

import pytest
from tests.conftest import REPO_ROOT


def test_the_benchmark_runs_small_and_reports_a_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_member_of", REPO_ROOT / "bench" / "member_of.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["40"])
    assert result["users"] == 40
    assert result["marked"] == 2  # one member left, one joined: only they were re-evaluated
    assert result["ratio"] == pytest.approx(
        result["member_of_full_sync_s"] / result["attribute_scoped_full_sync_s"], rel=0.1
    )
    assert "ratio" in capsys.readouterr().out
