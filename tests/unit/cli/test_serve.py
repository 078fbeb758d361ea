"""``hybridsync serve``'s own settings of the engine it builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridsync.cli.serve import DELETION_WINDOW, _count_deletes_over_a_window
from hybridsync.config import Config
from hybridsync.wiring import build


@pytest.mark.parametrize(("configured", "seconds"), [(None, DELETION_WINDOW), (5, 300.0), (0, 0)])
def test_the_service_counts_deletes_over_an_hour_unless_configured(
    tmp_path: Path, configured: float | None, seconds: float
) -> None:
    (tmp_path / "ad.ldif").write_text("version: 1\n", encoding="utf-8")
    config = Config.model_validate({
        "store": str(tmp_path / "state.db"),
        "builtin_rules": {"source": "ad", "target": "cloud"},
        "safety": {"deletion_window_minutes": configured},
        "connectors": [
            {"type": "ldif", "name": "ad", "path": str(tmp_path / "ad.ldif")},
            {"type": "recording", "name": "cloud", "path": str(tmp_path / "cloud.db")},
        ],
    })  # fmt: skip
    built = build(config)
    try:
        _count_deletes_over_a_window(built)
        assert built.engine.context.settings.deletion_window_seconds == seconds
    finally:
        built.close()
