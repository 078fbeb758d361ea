"""docs/operations.md's metrics table and alert rules name the metrics the service serves."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import REPO_ROOT

from hybridsync.cli.admin.metrics import ServiceMetrics
from hybridsync.core.ports import RetryWait
from hybridsync.engine.control import RunProgress
from hybridsync.engine.password_hash_sync import PasswordSyncReport
from hybridsync.engine.report import CycleReport, Profile, RunReport

DOC = REPO_ROOT / "docs" / "operations.md"
_METRIC = re.compile(r"\bhybridsync_[a-z_]+\b")


def served_names() -> set[str]:
    """Every family and sample name of a service that ran a cycle and a PHS run."""
    metrics = ServiceMetrics(pending=lambda: {"cloud": (0, 1)})
    export = RunReport("cloud", Profile.EXPORT, counts={"update": 1})
    metrics.observe_cycle(CycleReport("delta", [export]), woken_at=0.0)
    metrics.phs_reported(PasswordSyncReport("ad", synced=1))
    wait = RetryWait("POST /v1.0/$batch: 429", 1, 5, 1.0)
    metrics.progress(RunProgress("r1", "cloud", "export", 0, None, waiting=wait))
    text = metrics.exposition().decode()
    families = list(text_string_to_metric_families(text))
    return {f.name for f in families} | {s.name for f in families for s in f.samples}


def served_families() -> set[str]:
    text = ServiceMetrics(pending=lambda: {}).exposition().decode()
    names = {f.name for f in text_string_to_metric_families(text)}
    # ``*_created`` (when a series began) comes with every counter and histogram.
    return {name for name in names if not name.endswith("_created")} | {
        "hybridsync_pending_imports", "hybridsync_pending_exports",
    }  # fmt: skip


def documented(section: str) -> set[str]:
    text = DOC.read_text("utf-8")
    start = text.index(section)
    end = text.find("\n## ", start + 1)
    return set(_METRIC.findall(text[start : end if end != -1 else None]))


def test_every_documented_metric_is_served_and_every_served_one_documented() -> None:
    served = served_names()
    named = documented("## The service's admin address")
    unknown = {name for name in named if name not in served}
    assert not unknown, f"docs/operations.md names metrics the service does not serve: {unknown}"
    undocumented = served_families() - {name.removesuffix("_total") for name in named}
    assert not undocumented, f"served, not in docs/operations.md: {undocumented}"


def test_the_alert_rules_cover_the_four_documented_cases() -> None:
    rules = DOC.read_text("utf-8").split("### Alert rules", 1)[1].split("```", 2)[1]
    alerts = re.findall(r"- alert: (\w+)", rules)
    assert alerts == [
        "HybridsyncNoSuccessfulCycle", "HybridsyncDeletionThresholdHit",
        "HybridsyncObjectErrors", "HybridsyncPasswordHashSyncFailing",
    ]  # fmt: skip
    assert 'status="stopped-deletion-threshold-exceeded"' in rules  # the status as recorded
    assert set(_METRIC.findall(rules)) <= served_names()
