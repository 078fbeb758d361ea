"""The groups claim example of docs/cloud.md runs."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "cloud.md"


def test_groups_claim_example_runs() -> None:
    (example,) = re.findall(r"```python groups\n(.*?)```", DOC.read_text("utf-8"), re.DOTALL)
    exec(compile(example, str(DOC), "exec"), {"__name__": "docs_example"})
