"""bench/ad_export.py runs small on the session's DC and reports both paths and their ratio."""

from __future__ import annotations

import importlib.util

import pytest
from tests.conftest import REPO_ROOT
from tests.support.samba import SambaDC

pytestmark = pytest.mark.samba


def test_the_export_benchmark_runs_small_and_reports_a_ratio(samba_dc: SambaDC, ou: str) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_ad_export", REPO_ROOT / "bench" / "ad_export.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run_on(samba_dc, ou, 20)
    assert result["users"] == 20  # both paths created every user (counted inside)
    assert result["ratio"] == pytest.approx(
        result["connector_export_seconds"] / result["raw_add_seconds"], rel=0.05
    )
