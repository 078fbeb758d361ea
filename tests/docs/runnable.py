"""Runnable shell examples of the docs: fenced blocks opened with ```` ```sh runnable ````.

Every block of a document runs in order in one fresh directory, one command a line,
with the project's ``hybridsync`` first on PATH. A command must exit 0, unless the line
ends with ``# exit: N``. Use them for commands that need nothing outside the repository
(the demo, a served cloud directory...); examples that need a domain controller stay
plain ``sh`` blocks and are covered by the integration tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT

MARKER = "```sh runnable"
_BLOCK = re.compile(r"^```sh runnable\n(.*?)^```", re.MULTILINE | re.DOTALL)
_EXIT = re.compile(r"\s+#\s*exit:\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class Command:
    line: str
    exit_status: int


def documents() -> list[Path]:
    """README.md and every docs/*.md file that holds at least one runnable block."""
    candidates = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    return [p for p in candidates if MARKER in p.read_text(encoding="utf-8")]


def commands(document: Path) -> list[Command]:
    """The commands of a document's runnable blocks, in order."""
    found: list[Command] = []
    for block in _BLOCK.findall(document.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            match = _EXIT.search(stripped)
            status = int(match.group(1)) if match else 0
            found.append(Command(_EXIT.sub("", stripped), status))
    return found
