from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.contract.suites import TargetSuite

from hybridsync.connectors.recording import RecordingConfig, RecordingTarget


@pytest.fixture(params=["memory", "file"])
def connector(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordingTarget]:
    path = tmp_path / "cloud.db" if request.param == "file" else None
    target = RecordingTarget(RecordingConfig(name="cloud", path=path))
    yield target
    target.close()


class TestRecordingTarget(TargetSuite):
    pass
