"""``status`` reads a SQLite store with the standard library and any other store through
the store's own connection: on both, the same counts. On the demo it loads nothing of
the engine, the SQL toolkit, the rule parser, logging or the cloud directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.stores import StoreTarget
from tests.support.workspace import invoke, write_workspace


def _workspace(directory: Path, store: StoreTarget) -> Path:
    path = write_workspace(directory)
    text = path.read_text("utf-8").replace('store = "state.db"\n', store.toml())
    path.write_text(text, "utf-8")
    return path


def _rows(config: Path) -> dict[str, dict[str, Any]]:
    code, output = invoke("status", "-c", str(config), "--json")
    assert code == 0, output
    return {row["connector"]: row for row in json.loads(output)["connectors"]}


def test_status_counts_alike_on_every_sql_store(store_target: StoreTarget, tmp_path: Path) -> None:
    config = _workspace(tmp_path, store_target)
    assert _rows(config)["ad"]["full_import_required"]  # before any run: nothing recorded
    ldif = tmp_path / "ad.ldif"
    text = ldif.read_text("utf-8")
    ldif.write_text(text.replace("userPrincipalName: wmoran@contoso.com\n", ""), "utf-8")
    assert invoke("run", "initial", "-c", str(config))[0] == 1  # one object error
    rows = _rows(config)
    assert (rows["ad"]["objects"], rows["ad"]["objects_in_error"]) == (
        23,
        1,
    )  # every entry of the file
    assert rows["ad"]["pending_imports"] == 0
    assert rows["cloud"]["awaiting_confirmation"] == 19
    assert not rows["ad"]["full_import_required"]
    assert not rows["ad"]["full_sync_required"]
    assert rows["ad"]["last_run"]["profile"] == "full-sync"

    # A user gone from AD: imported and synced, not exported yet, is a pending delete.
    gone = text.index("dn: CN=Amy Turner")
    ldif.write_text(text[:gone] + text[text.index("\ndn: ", gone) + 1 :], "utf-8")
    assert invoke("run", "full-import", "--connector", "ad", "-c", str(config))[0] == 0
    rows = _rows(config)
    assert rows["ad"]["pending_imports"] >= 1
    assert invoke("run", "delta-sync", "--connector", "ad", "-c", str(config))[0] in (0, 1)
    rows = _rows(config)
    assert rows["cloud"]["pending_deletes"] == 1
    assert rows["cloud"]["pending_exports"] >= 1


STATUS_NEVER_LOADS = {
    "sqlalchemy",
    "lark",
    "structlog",
    "msal",
    "httpx",
    "fastapi",
    "uvicorn",
    "hybridsync.engine",
    "hybridsync.cloud.app",
    "hybridsync.cloud.service",
}
"""What ``status`` on the demo (a SQLite store, an LDIF file, the embedded cloud
directory) has no use for: each takes a noticeable part of a second to import."""


def test_status_on_the_demo_loads_only_what_reading_the_store_needs(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    entry = "from hybridsync.cli import main; main()"
    subprocess.run(
        [sys.executable, "-c", entry, "demo", "--data-dir", str(demo)],
        capture_output=True, check=True,
    )  # fmt: skip
    script = (
        "import sys\n"
        "from hybridsync.cli import main\n"
        "sys.argv = ['hybridsync', 'status', '--config', sys.argv[1], '--json']\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    ).replace("import sys\n", "import json, sys\n", 1)
    done = subprocess.run(
        [sys.executable, "-c", script, str(demo / "hybridsync.toml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["metaverse_objects"] > 0
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert STATUS_NEVER_LOADS & loaded == set()
