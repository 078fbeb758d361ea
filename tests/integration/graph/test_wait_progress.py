"""While a run waits out a throttled cloud before a retry, the progress display names the
connector, the phase and the wait, and the line goes once the wait is over."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.support.cloud_server import graph_connector_toml, serve_cloud
from tests.support.workspace import ldif_to_graph
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes
from hybridsync.cloud import ThrottleSettings
from hybridsync.cloud.throttle import Quota

# Fewer writes a second than the export sends at once: the cloud answers 429 with
# Retry-After for the rest, and the connector waits before each retry.
QUOTA = Quota(requests=8, seconds=1)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
WAITING = re.compile(
    r"cloud export: waiting \d+\.\d s before retry (\d+) of 8 \(\d+ writes refused \("
)


def test_the_progress_display_names_the_connector_phase_and_wait_of_a_throttled_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A terminal, so the display draws as it goes rather than once at the end.
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "200")
    throttle = ThrottleSettings(app_tenant_writes=QUOTA)
    with serve_cloud(tmp_path / "cloud", throttle=throttle) as server:
        tenant = server.new_tenant("contoso.com")
        config = ldif_to_graph(tmp_path, graph_connector_toml(server, tenant, tmp_path))
        result = CliRunner().invoke(app, ["run", "initial", "--progress", "-c", str(config)])
    output = ANSI.sub("", result.output)
    assert result.exit_code == exit_codes.SUCCESS, (output, result.exception)
    waits = WAITING.findall(output)
    assert waits, output
    assert "1" in waits
    # Once the last wait ended the display went on without it, to the export's end.
    after_last_wait = output.rsplit("before retry", 1)[-1]
    assert re.search(r"cloud export +━+ +20/20", after_last_wait), output
    assert "waiting" not in after_last_wait, output
