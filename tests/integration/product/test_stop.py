"""SIGTERM on a real process in the middle of a run: the run ends after its current
batch (``stopped-by-request``, in the history), the process exits with its documented
status, and the next run reaches exactly the state of an uninterrupted one."""

from __future__ import annotations

import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from hybridsync.wiring import build_from_file

pytestmark = pytest.mark.slow
HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")
USERS, BATCH = 2000, 100


def _user(index: int) -> str:
    sam = f"user{index:05d}"
    guid = base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, sam).bytes_le).decode()
    domain = "partners.contoso.com" if index % 5 == 0 else "contoso.com"
    return (
        f"dn: CN={sam},OU=Staff,DC=contoso,DC=com\nobjectClass: user\nobjectGUID:: {guid}\n"
        f"sAMAccountName: {sam}\nuserPrincipalName: {sam}@{domain}\ndisplayName: User {index}\n"
        f"department: Sales\nuserAccountControl: 512\n"
    )


def directory(root: Path) -> Path:
    """A directory of USERS users, every phase in batches of BATCH."""
    root.mkdir()
    entries = "\n".join(_user(i) for i in range(USERS))
    (root / "ad.ldif").write_text(f"version: 1\n\n{entries}", encoding="utf-8")
    config = root / "hybridsync.toml"
    config.write_text(
        'store = "state.db"\n[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'
        '[user_type]\nsource = "upn-suffix"\nsuffixes = ["@partners.contoso.com"]\n'
        f"[safety]\nbatch_size = {BATCH}\n"
        f'[[connectors]]\ntype = "ldif"\nname = "ad"\npath = "ad.ldif"\npage_size = {BATCH}\n'
        '[[connectors]]\ntype = "recording"\nname = "cloud"\npath = "cloud.db"\n'
        f"batch_size = {BATCH}\n",
        encoding="utf-8",
    )
    return config


def target(root: Path) -> list[tuple[str, str]]:
    """The recorded cloud objects: DN and attributes."""
    with sqlite3.connect(root / "cloud.db") as db:
        rows = db.execute("SELECT dn, attributes FROM objects WHERE deleted = 0").fetchall()
    return sorted((dn, json.dumps(json.loads(text), sort_keys=True)) for dn, text in rows)


def runs(root: Path) -> list[tuple[str, str, str, str]]:
    """(connector, profile, status, message) of every recorded run, oldest first."""
    if not (root / "state.db").exists():
        return []
    with sqlite3.connect(root / "state.db", timeout=30) as db:
        try:
            found = db.execute(
                "SELECT connector, profile, status, message FROM runs ORDER BY seq"
            ).fetchall()
        except sqlite3.OperationalError:  # the schema is not created yet
            return []
    return [tuple(row) for row in found]


def wait_for_sync_in_progress(root: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while ("ad", "full-sync", "in-progress") not in {r[:3] for r in runs(root)}:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, runs(root)
        time.sleep(0.01)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    root = tmp_path_factory.mktemp("reference") / "ws"
    built = build_from_file(directory(root))
    try:
        assert built.engine.cycle("initial").status == "success"
    finally:
        built.close()
    expected = target(root)
    assert len(expected) == USERS
    return expected


@pytest.mark.parametrize(
    ("command", "exit_status"),
    [(["run", "initial"], 2), (["--log-format", "json", "scheduler", "--max-cycles", "1"], 0)],
    ids=["run", "scheduler"],
)
def test_sigterm_mid_run_stops_after_the_batch_and_the_next_run_completes(
    tmp_path: Path, uninterrupted: list[tuple[str, str]], command: list[str], exit_status: int
) -> None:
    config = directory(tmp_path / "ws")
    root = config.parent
    with subprocess.Popen(
        [HYBRIDSYNC, *command, "-c", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:  # fmt: skip
        wait_for_sync_in_progress(root, process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == exit_status, out + err
    recorded = runs(root)
    assert [r[:2] for r in recorded] == [
        ("ad", "full-import"), ("cloud", "full-import"), ("ad", "full-sync"),
    ]  # fmt: skip
    *_, status, message = recorded[-1]
    assert status == "stopped-by-request"
    done = int(message.split("stopped by request after ")[1].split()[0])
    assert 0 < done < USERS  # mid-run: stopped at a batch boundary, not at the end
    assert done % BATCH == 0
    assert target(root) == []  # the cycle's export never started

    history = subprocess.run(
        [HYBRIDSYNC, "history", "-c", str(config), "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert history.returncode == 0, history.stderr
    assert json.loads(history.stdout)[0]["status"] == "stopped-by-request"

    follow = subprocess.run(
        [HYBRIDSYNC, "run", "delta", "-c", str(config), "--json"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert follow.returncode == 0, follow.stdout + follow.stderr
    notes = json.loads(follow.stdout)["notes"]
    assert "ad: no full sync has completed yet, so one was run" in notes
    assert target(root) == uninterrupted
