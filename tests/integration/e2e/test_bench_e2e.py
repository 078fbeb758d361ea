"""bench/e2e.py runs small: both baselines, both cycles and the change latency."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT, skip_unless_ci

pytestmark = [pytest.mark.samba, pytest.mark.slow]


def test_the_end_to_end_benchmark_runs_small() -> None:
    samba = shutil.which("samba") or Path("/usr/sbin/samba").exists()
    if not samba or shutil.which("ldapsearch") is None:
        skip_unless_ci("needs samba and ldapsearch")
    spec = importlib.util.spec_from_file_location("bench_e2e", REPO_ROOT / "bench" / "e2e.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # main() asserts every export inside.
    result = module.main(["--users", "40", "--json", "--no-bytecode"])
    assert result["users"] == 40
    assert result["delta_changes"] == 1
    assert result["overall_ratio"] == pytest.approx(
        result["initial_wall_s"] / (result["ldapsearch_s"] + result["raw_batch_s"]), rel=0.05
    )
    assert result["change_to_cloud_s"] > 0
    assert len(result["change_to_cloud_runs_s"]) == len(result["change_run_cpu_s"]) == 3
    assert result["initial_cpu_s"] > 0
    assert result["delta_cpu_s"] > 0
