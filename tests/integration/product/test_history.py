"""``hybridsync history``: runs newest first, one run by id, filters on runs and errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration.product.conftest import invoke

from hybridsync.cli import exit_codes


def runs(*args: str) -> list[dict[str, object]]:
    code, output = invoke("history", *args, "--json")
    assert code == 0, output
    data: list[dict[str, object]] = json.loads(output)
    return data


def test_filters_by_connector_status_run_and_error_text(workspace: Path) -> None:
    ldif = workspace.parent / "ad.ldif"
    text = ldif.read_text("utf-8")
    ldif.write_text(text.replace("userPrincipalName: wmoran@contoso.com\n", ""), "utf-8")
    assert invoke("run", "initial", "-c", str(workspace))[0] == 1  # one object error
    assert invoke("run", "delta", "-c", str(workspace))[0] == 1
    c = ("-c", str(workspace))
    everything = runs(*c, "--limit", "100")
    assert len(everything) == 10
    assert {r["connector"] for r in runs(*c, "--connector", "ad", "--limit", "100")} == {"ad"}
    failing = runs(*c, "--status", "completed", "--limit", "100")
    assert [(r["connector"], r["profile"]) for r in failing] == [
        ("ad", "delta-sync"),
        ("ad", "full-sync"),
    ]
    assert all(r["errors"] == [] for r in failing)  # errors only when asked
    (one,) = runs(failing[1]["run_id"][:8], *c)  # type: ignore[index]
    (error,) = one["errors"]  # type: ignore[misc]
    assert error["attribute"] == "userType"
    assert error["message"] == "UserPrincipalName is not present to determine UserType"
    assert "William Moran" in error["dn"]
    assert len(runs(*c, "--grep", "moran", "--limit", "100")) == 2
    assert runs(*c, "--grep", "nobody at all") == []
    code, output = invoke("history", "deadbeef", *c)
    assert code == exit_codes.NOT_FOUND
    assert "no run with id" in output
    code, output = invoke("history", *c, "--errors", "--limit", "3")
    assert "UserPrincipalName is not present" in output
    # --errors lists only the runs that have object errors (10 runs, 2 with errors)
    with_errors = runs(*c, "--errors", "--limit", "100")
    assert [(r["connector"], r["profile"]) for r in with_errors] == [
        ("ad", "delta-sync"),
        ("ad", "full-sync"),
    ]
    assert all(r["errors"] for r in with_errors)


def test_status_shows_last_runs_thresholds_and_due_full_runs(workspace: Path) -> None:
    code, output = invoke("status", "-c", str(workspace), "--json")
    assert code == 0
    fresh = json.loads(output)
    assert fresh["thresholds"]["deletion_threshold"] == 500
    assert all(row["full_import_required"] for row in fresh["connectors"])
    assert all(row["last_run"] is None for row in fresh["connectors"])
    assert invoke("run", "initial", "-c", str(workspace))[0] == 0
    done = json.loads(invoke("status", "-c", str(workspace), "--json")[1])
    rows = {row["connector"]: row for row in done["connectors"]}
    assert rows["cloud"]["last_run"]["profile"] == "export"
    assert rows["ad"]["last_run"]["profile"] == "full-sync"
    assert not rows["ad"]["full_import_required"]
    assert not rows["ad"]["full_sync_required"]
    text = workspace.read_text("utf-8")
    workspace.write_text(text.replace('"@partners.contoso.com"', '"@fabrikam.com"'), "utf-8")
    code, output = invoke("status", "-c", str(workspace))
    assert re.search(r"\n  due: +full sync \(the next delta cycle runs it\)\n", output), output
    assert "deletion threshold: 500" in output
