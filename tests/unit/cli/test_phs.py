"""``hybridsync phs run``: configuration errors and staging mode, without any server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
import structlog.testing
from tests.support.phs_config import PHS_SECTION, UNREACHABLE_CONNECTORS
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes
from hybridsync.cli.password_hash_sync import start_phs_thread

CONNECTORS = UNREACHABLE_CONNECTORS
PHS = PHS_SECTION


@pytest.fixture(autouse=True)
def passwords(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TEST_AD_PASSWORD", "ad-password")
    monkeypatch.setenv("TEST_PHS_PASSWORD", "phs-password")
    yield
    structlog.reset_defaults()  # the command configures logging for its process


def run(tmp_path: Path, text: str) -> tuple[int, str, str]:
    config = tmp_path / "hybridsync.toml"
    config.write_text(f'store = "state.db"\n{text}', encoding="utf-8")
    result = CliRunner().invoke(app, ["phs", "run", "--json", "-c", str(config)])
    return result.exit_code, result.stdout, result.stderr


def test_without_the_section_it_is_a_configuration_error(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, CONNECTORS.format(target="hybridsync"))
    assert code == exit_codes.CONFIG_ERROR
    assert "[password_hash_sync]" in err


def test_the_source_must_be_an_ad_connector(tmp_path: Path) -> None:
    text = "staging_mode = true\n" + PHS.format(source="cloud")
    code, _, err = run(tmp_path, text + CONNECTORS.format(target="hybridsync"))
    assert code == exit_codes.CONFIG_ERROR
    assert "connector cloud is of type 'graph', expected 'ad'" in err


def test_microsoft_graph_takes_no_password_hashes(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, PHS.format(source="ad") + CONNECTORS.format(target="entra"))
    assert code == exit_codes.CONFIG_ERROR
    assert "target = 'hybridsync'" in err


def test_staging_mode_reads_and_sends_nothing(tmp_path: Path) -> None:
    text = (
        "staging_mode = true\n" + PHS.format(source="ad") + CONNECTORS.format(target="hybridsync")
    )
    code, out, _ = run(tmp_path, text)
    assert code == exit_codes.STOPPED  # no server answers on port 1: nothing was contacted
    assert json.loads(out)["status"] == "stopped-staging-mode"


def test_the_scheduler_thread_runs_phs_until_stopped(tmp_path: Path) -> None:
    config = tmp_path / "hybridsync.toml"
    text = (
        "staging_mode = true\n" + PHS.format(source="ad") + CONNECTORS.format(target="hybridsync")
    )
    config.write_text(f'store = "state.db"\n{text}', encoding="utf-8")
    stop = threading.Event()
    with structlog.testing.capture_logs() as logs:
        thread = start_phs_thread(config, stop, interval=0.05)
        assert thread is not None
        deadline = time.monotonic() + 10
        while sum(e["event"] == "phs.run.skipped" for e in logs) < 2:
            assert time.monotonic() < deadline, logs
            time.sleep(0.02)
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_no_scheduler_thread_without_the_section(tmp_path: Path) -> None:
    config = tmp_path / "hybridsync.toml"
    config.write_text('store = "state.db"\n' + CONNECTORS.format(target="hybridsync"), "utf-8")
    assert start_phs_thread(config, threading.Event()) is None
