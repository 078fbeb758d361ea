"""``hybridsync run``: bars per phase with objects done, a summary table, the aliases."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration.product.conftest import invoke


def test_progress_bars_count_the_objects_of_each_phase(workspace: Path) -> None:
    code, output = invoke("run", "--full", "-c", str(workspace), "--progress")
    assert code == 0, output
    bars = {
        m.group(1): (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(r"^(\w+ [\w-]+)\s+━+\s+(\d+)/(\d+)", output, re.MULTILINE)
    }
    assert bars["ad full-import"] == (23, 23)  # every object the LDIF import yielded
    assert bars["cloud export"] == (20, 20)  # one per pending export, out of all of them
    assert set(bars) == {
        "ad full-import", "cloud full-import", "ad full-sync", "cloud full-sync", "cloud export",
    }  # fmt: skip


def test_summary_table_lists_every_run(workspace: Path) -> None:
    code, output = invoke("run", "initial", "-c", str(workspace), "--no-progress")
    assert code == 0
    assert "━━" not in output.split("cycle initial")[0]  # no bars when asked not to
    assert "cycle initial: success" in output
    rows = [line for line in output.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["ad", "cloud", "ad", "cloud", "cloud"]
    assert "add 20" in rows[-1]


def test_delta_and_profile_aliases(workspace: Path) -> None:
    assert invoke("run", "--full", "-c", str(workspace))[0] == 0
    code, output = invoke("run", "--delta", "-c", str(workspace), "--json")
    assert code == 0
    assert json.loads(output)["cycle"] == "delta"
    code, output = invoke(
        "run", "--profile", "full-import", "--connector", "ad", "-c", str(workspace), "--json"
    )
    assert code == 0
    assert json.loads(output)["profile"] == "full-import"
