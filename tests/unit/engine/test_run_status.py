"""Run statuses rank as the spec orders them; one dict per run for report, history and store."""

from __future__ import annotations

import json

from hybridsync.core.objects import ObjectError
from hybridsync.core.runs import CycleKind, ErrorKind, Profile, RunRecord, Status, run_dict
from hybridsync.engine.report import CycleReport, RunReport


def test_every_status_is_stopped_completed_or_success_and_ranks_so() -> None:
    for status in Status:
        assert status.stopped == status.startswith("stopped-")
        assert status.with_errors == (status.startswith("completed-") and "errors" in status)
    ranks = [status.rank for status in Status if status.stopped]
    assert max(ranks) < min(s.rank for s in Status if s.with_errors)
    assert Status.STOPPED_ERROR_LIMIT.rank > Status.STOPPED_STORE.rank  # the others stop worse
    assert Status.COMPLETED_ERRORS.rank < Status.COMPLETED_WARNINGS.rank < Status.SUCCESS.rank


def test_a_cycle_has_the_worst_status_of_its_runs() -> None:
    cycle = CycleReport(CycleKind.DELTA)
    assert cycle.status is Status.SUCCESS
    cycle.runs.append(RunReport("ad", Profile.FULL_IMPORT, status=Status.COMPLETED_WARNINGS))
    cycle.runs.append(RunReport("ad", Profile.FULL_SYNC, status=Status.COMPLETED_ERRORS))
    cycle.runs.append(RunReport("cloud", Profile.EXPORT, status=Status.STOPPED_ERROR_LIMIT))
    assert cycle.status is Status.STOPPED_ERROR_LIMIT
    cycle.stopped = True  # a stop request is worse than an error limit
    assert cycle.status is Status.STOPPED_BY_REQUEST


def test_a_run_is_one_dict_for_the_report_and_the_history() -> None:
    error = ObjectError("ad", "CN=x", "bad", "a1", "rule", "userType", ErrorKind.IMPORT)
    report = RunReport(
        "ad",
        Profile.DELTA_IMPORT,
        run_id="r1",
        status=Status.COMPLETED_ERRORS,
        counts={"update": 2, "add": 1},
        errors=[error],
        started="t0",
        ended="t1",
    )
    record = RunRecord(
        "r1",
        "ad",
        Profile.DELTA_IMPORT,
        Status.COMPLETED_ERRORS,
        "t0",
        "t1",
        {"add": 1, "update": 2},
    )
    shared = run_dict(record, [error])
    assert report.record() == record
    assert {k: v for k, v in report.as_dict().items() if k in shared} == shared
    assert json.loads(json.dumps(shared)) == {
        "run_id": "r1",
        "connector": "ad",
        "profile": "delta-import",
        "status": "completed-sync-errors",
        "started": "t0",
        "ended": "t1",
        "counts": {"add": 1, "update": 2},
        "message": "",
        "errors": [
            {
                "dn": "CN=x",
                "anchor": "a1",
                "rule": "rule",
                "attribute": "userType",
                "message": "bad",
                "kind": "import",
            }
        ],
    }
    assert "errors" not in run_dict(record, errors=None)
