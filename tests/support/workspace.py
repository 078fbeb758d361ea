"""A small sync workspace for CLI tests: the 20-user Contoso sample (LDIF) into the
recording target, and the CLI invoked in-process."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from hybridsync.cli import app

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "contoso-20.ldif"
CONFIG = """
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[user_type]
source = "upn-suffix"
suffixes = ["@partners.contoso.com"]
{extra}
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
[[connectors]]
type = "recording"
name = "cloud"
path = "cloud.db"
"""


def write_workspace(directory: Path, extra: str = "") -> Path:
    """Copy the sample into ``directory`` and write its configuration; return its path.

    ``extra`` is TOML placed before the connectors, for example a ``[safety]`` table.
    """
    shutil.copy(SAMPLE, directory / "ad.ldif")
    path = directory / "hybridsync.toml"
    path.write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str]:
    """Run the CLI in-process: ``(exit code, output)``."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


LDIF_TO_GRAPH = """
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[user_type]
source = "attribute"
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
"""


def ldif_to_graph(root: Path, graph_connector: str) -> Path:
    """A configuration in ``root``: the 20-user sample into the given Graph connector
    (a ``[[connectors]]`` TOML entry named ``cloud``)."""
    shutil.copy(SAMPLE, root / "ad.ldif")
    path = root / "hybridsync.toml"
    path.write_text(LDIF_TO_GRAPH + graph_connector, encoding="utf-8")
    return path
