"""The expression benchmark runs (small) and reports both rates and their ratio."""

from __future__ import annotations

import importlib.util

from tests.conftest import REPO_ROOT


def test_benchmark_runs_small() -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_expressions", REPO_ROOT / "bench" / "expressions.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["300", "--json"])
    assert result["evaluations"] == 300
    assert result["expression_per_second"] > 0
    assert result["python_per_second"] > 0
    expected_ratio = result["python_per_second"] / result["expression_per_second"]
    assert abs(result["ratio"] - expected_ratio) < 0.01
