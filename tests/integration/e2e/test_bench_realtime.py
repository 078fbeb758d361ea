"""bench/realtime.py runs small: serve beside run --delta, idle CPU, the DC's own share."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT, skip_unless_ci

pytestmark = [pytest.mark.samba, pytest.mark.slow]


def test_the_realtime_benchmark_runs_small() -> None:
    if not (shutil.which("samba") or Path("/usr/sbin/samba").exists()):
        skip_unless_ci("needs samba")
    path = REPO_ROOT / "bench" / "realtime.py"
    spec = importlib.util.spec_from_file_location("bench_realtime", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = ["--users", "40", "--changes", "3", "--baseline-changes", "2", "--idle-seconds", "1"]
    (result,) = module.main([*args, "--json"])
    assert result["users"] == 40
    # Each change was read back through Graph with its new value before it counted.
    assert result["serve"]["changes"] == 3
    assert 0 < result["serve"]["p50_s"] <= result["serve"]["max_s"]
    assert result["run_delta"]["changes"] == 2
    assert result["idle_cpu_percent_of_one_core"] >= 0
    assert result["dc_dirsync_round_ms"] > 0
    assert result["dc_notification_ms"] > 0
