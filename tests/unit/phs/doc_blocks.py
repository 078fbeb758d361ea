"""The Python examples of docs/password-hash-sync.md, so that tests can run them."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "password-hash-sync.md"
NEEDS_DC = "# requires: domain controller"


def python_blocks() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def pure_blocks() -> list[str]:
    return [block for block in python_blocks() if not block.startswith(NEEDS_DC)]


def dc_blocks() -> list[str]:
    return [block for block in python_blocks() if block.startswith(NEEDS_DC)]
