"""``status`` and ``history`` read only the store: they need no directory password.
The password is read when a connection is opened, and its absence is then a clear
configuration error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes

pytest.importorskip("ldap")

CONFIG = """
store = "state.db"
[builtin_rules]
source = "corp"
target = "cloud"
[[connectors]]
type = "ad"
name = "corp"
url = "ldaps://127.0.0.1:1"
bind_user = "svc-hybridsync@corp.contoso.com"
password_env = "HYBRIDSYNC_AD_PASSWORD"
base_dn = "DC=corp,DC=contoso,DC=com"
[[connectors]]
type = "recording"
name = "cloud"
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HYBRIDSYNC_AD_PASSWORD", raising=False)
    path = tmp_path / "hybridsync.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["status", "history"])
def test_store_commands_run_without_the_directory_password(config: Path, command: str) -> None:
    result = CliRunner().invoke(app, [command, "-c", str(config), "--json"])
    assert result.exit_code == exit_codes.SUCCESS, result.output
    json.loads(result.stdout)


def test_a_run_needs_it_and_says_which_variable(config: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "full-import", "--connector", "corp", "-c", str(config)]
    )
    assert result.exit_code == exit_codes.CONFIG_ERROR, result.output
    assert "HYBRIDSYNC_AD_PASSWORD" in result.output
