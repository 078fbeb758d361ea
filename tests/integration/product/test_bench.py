"""The embedded-cloud benchmark runs small and reports both paths and their ratio."""

from __future__ import annotations

import importlib.util

import pytest
from tests.conftest import REPO_ROOT


def test_the_benchmark_runs_small_and_reports_a_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_embedded_cloud", REPO_ROOT / "bench" / "embedded_cloud.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["30"])
    assert result["users"] == 30  # both paths created every user (checked inside)
    assert result["initial_ratio"] == pytest.approx(
        result["served_initial_s"] / result["embedded_initial_s"], rel=0.05
    )
    assert "initial_ratio" in capsys.readouterr().out
