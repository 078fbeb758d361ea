"""The engine's commands end to end: config file, LDIF in, recording target out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.workspace import invoke, write_workspace

from hybridsync.cli import exit_codes

SAFETY = "[safety]\ndeletion_threshold = 5"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_workspace(tmp_path, SAFETY)


def test_run_initial_then_delta_with_json(config: Path) -> None:
    code, output = invoke("run", "initial", "-c", str(config))
    assert code == 0, output
    assert "cycle initial: success" in output
    assert "add 20" in output
    code, output = invoke("run", "delta", "-c", str(config), "--json")
    assert code == 0
    data = json.loads(output)
    assert data["status"] == "success"
    assert [run["profile"] for run in data["runs"]][-1] == "export"


def test_one_profile_on_one_connector(config: Path) -> None:
    code, output = invoke("run", "full-import", "--connector", "ad", "-c", str(config), "--json")
    assert code == 0
    assert json.loads(output)["counts"]["added"] == 23
    assert invoke("run", "full-import", "-c", str(config))[0] == 3
    assert invoke("run", "sideways", "-c", str(config))[0] == 3


def test_exit_codes_for_object_errors_stops_and_bad_config(config: Path, tmp_path: Path) -> None:
    ldif = tmp_path / "ad.ldif"
    ldif.write_text(
        ldif.read_text(encoding="utf-8").replace("userPrincipalName: wmoran@contoso.com\n", "")
    )
    code, output = invoke("run", "initial", "-c", str(config))
    assert code == 1
    assert "UserPrincipalName is not present to determine UserType" in output
    entries = ldif.read_text(encoding="utf-8").split("\n\n")
    ldif.write_text("\n\n".join(e for e in entries if "OU=Partners" not in e), encoding="utf-8")
    code, output = invoke("run", "delta", "-c", str(config), "--allow-shrink")
    assert code == 2
    assert "stopped-deletion-threshold-exceeded" in output
    code, output = invoke(
        "run", "export", "--connector", "cloud", "-c", str(config), "--allow-deletes"
    )
    assert code == 0, output
    config.write_text(
        config.read_text().replace("deletion_threshold = 5", "deletion_threshold = -5")
    )
    code, output = invoke("run", "delta", "-c", str(config))
    assert code == 3
    assert "safety.deletion_threshold" in output


def test_preview_shows_lineage(config: Path) -> None:
    invoke("run", "initial", "-c", str(config))
    dn = "CN=Megan Sullivan,OU=Partners,DC=contoso,DC=com"
    code, output = invoke("preview", dn, "--connector", "ad", "-c", str(config))
    assert code == 0
    assert "userType = Guest   <- In from AD - User UserType" in output
    assert "pending export: none" in output
    code, output = invoke("preview", "CN=nobody", "--connector", "ad", "-c", str(config))
    assert code == exit_codes.NOT_FOUND
    assert "no object with DN or anchor 'CN=nobody'" in output


def test_preview_of_an_unknown_upn_is_not_found_and_says_upn(config: Path) -> None:
    invoke("run", "initial", "-c", str(config))
    code, output = invoke("preview", "nobody@contoso.com", "-c", str(config))
    assert code == exit_codes.NOT_FOUND
    assert "no object with UPN 'nobody@contoso.com'" in output
    assert "DN or anchor" not in output
    code, output = invoke("preview", "MSullivan@Partners.Contoso.com", "-c", str(config))
    assert code == 0, output


def test_plan_then_apply_and_a_stale_plan_is_refused(config: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    code, output = invoke("plan", "-c", str(config), "--out", str(plan))
    assert code == 0
    assert "plan " in output
    assert "add 20" in output
    assert "userType: (none) -> Guest" in output
    code, output = invoke("apply", str(plan), "-c", str(config))
    assert code == 0, output
    assert invoke("apply", str(plan), "-c", str(config))[0] == 2  # nothing pending now: stale
    code, output = invoke("status", "-c", str(config), "--json")
    status = json.loads(output)
    assert status["metaverse_objects"] == 22
    assert {row["connector"]: row["objects"] for row in status["connectors"]} == {
        "ad": 23,
        "cloud": 20,
    }
    code, output = invoke("history", "-c", str(config), "--json")
    assert code == 0
    assert json.loads(output)[0]["profile"] == "export"
