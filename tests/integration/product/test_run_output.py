"""``hybridsync run``: bars per phase with objects done, a summary table, the aliases."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
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


HEADER = re.compile(r"^connector +profile +status +time +changes$", re.MULTILINE)


def table_rows(output: str) -> list[list[str]]:
    """The cells of each row of the runs table in ``output`` (continuation lines apart)."""
    header = HEADER.search(output)
    assert header is not None, output
    rows = []
    for line in output[header.end() :].splitlines()[1:]:
        if not line or line.startswith(" "):
            if rows and line.startswith(" " * 10):
                rows[-1][-1] += " " + line.strip()  # the changes, wrapped
                continue
            break
        rows.append(re.split(r"  +", line))
    return rows


def test_summary_table_lists_every_run(workspace: Path) -> None:
    code, output = invoke("run", "initial", "-c", str(workspace), "--no-progress")
    assert code == 0
    assert "━━" not in output.split("cycle initial")[0]  # no bars when asked not to
    assert "cycle initial: success" in output
    rows = table_rows(output)
    assert [row[0] for row in rows] == ["ad", "cloud", "ad", "cloud", "cloud"]
    assert rows[-1][1:3] == ["export", "success"]
    assert rows[-1][-1] == "add 20"
    assert rows[3][-1] == "no changes"  # the target's sync found nothing to do


def test_every_command_prints_runs_in_one_table_within_80_columns(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cycle, a single run profile, an apply and the history: the same table, and no
    line wider than 80 columns (a row's changes wrap between items, never in one)."""
    monkeypatch.setenv("COLUMNS", "80")
    ldif = workspace.parent / "ad.ldif"
    c = ("-c", str(workspace))
    outputs = [invoke("run", "initial", *c)[1]]
    outputs.append(invoke("run", "full-import", "--connector", "ad", *c)[1])
    text = ldif.read_text("utf-8")
    ldif.write_text(text.replace("department: Sales", "department: Sales EMEA"), "utf-8")
    plan_file = workspace.parent / "plan.json"
    assert invoke("plan", *c, "--out", str(plan_file))[0] == 0
    code, applied = invoke("apply", str(plan_file), *c)
    assert code == 0, applied
    outputs.append(applied)
    for output in outputs:
        assert all(len(line) <= 80 for line in output.splitlines()), output
        assert table_rows(output), output
    assert applied.startswith("apply: success\n")
    assert [row[:3] for row in table_rows(applied)] == [["cloud", "export", "success"]]
    assert re.fullmatch(r"update \d+", table_rows(applied)[0][-1])
    wide = next(row for row in table_rows(outputs[0]) if row[1] == "full-sync")
    assert wide[-1] == "mv-added 22, projected 22, provisioned 20"  # whole, in one cell


def test_history_says_no_changes_where_run_does(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, output = invoke("run", "initial", "-c", str(workspace))
    assert code == 0
    assert table_rows(output)[3][-1] == "no changes"
    code, history = invoke("history", "-c", str(workspace))
    assert code == 0
    assert re.search(r"cloud +full-sync +success .*\n +no changes\n", history), history
    assert all(len(line) <= 80 for line in history.splitlines()), history


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


HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")
BAR = re.compile(r"^cloud export\s+━+\s+20/20", re.MULTILINE)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HYBRIDSYNC, *args], capture_output=True, text=True, check=False, timeout=120
    )


def run_in_terminal(*args: str) -> tuple[int, str]:
    """The command with a pseudo-terminal as stdout and stderr: (status, what it showed)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [HYBRIDSYNC, *args], stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "160"},
    )  # fmt: skip
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return process.wait(timeout=120), shown.decode(errors="replace")


def test_json_stays_clean_with_bars_forced_onto_stderr(workspace: Path) -> None:
    done = run_cli("run", "initial", "-c", str(workspace), "--json", "--progress")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "success"  # nothing but the report
    assert BAR.search(done.stderr)


def test_no_bars_by_default_when_not_on_a_terminal(workspace: Path) -> None:
    done = run_cli("run", "initial", "-c", str(workspace))
    assert done.returncode == 0, done.stderr
    assert "cycle initial: success" in done.stdout
    assert "━" not in done.stderr
    assert "━" not in done.stdout.split("cycle initial")[0]


def test_bars_by_default_on_a_terminal_but_never_with_json(workspace: Path) -> None:
    code, shown = run_in_terminal("run", "initial", "-c", str(workspace))
    assert code == 0, shown
    assert "cloud export" in shown
    assert "20/20" in shown
    code, shown = run_in_terminal("run", "delta", "-c", str(workspace), "--json")
    assert code == 0, shown
    assert "━" not in shown
    assert json.loads(shown)["cycle"] == "delta"
