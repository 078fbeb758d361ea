"""A small workspace: the 20-user Contoso sample (LDIF) into the recording target."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hybridsync.cli import app

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "contoso-20.ldif"
CONFIG = """
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[user_type]
source = "upn-suffix"
suffixes = ["@partners.contoso.com"]
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
[[connectors]]
type = "recording"
name = "cloud"
path = "cloud.db"
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The configuration file of a fresh workspace."""
    shutil.copy(SAMPLE, tmp_path / "ad.ldif")
    path = tmp_path / "hybridsync.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output
