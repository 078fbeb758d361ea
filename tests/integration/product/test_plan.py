"""``hybridsync plan`` names each object as a reviewer knows it: displayName and UPN."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration.product.conftest import invoke

from hybridsync.engine.plan import fingerprint


def test_plan_names_objects_by_display_name_and_upn(workspace: Path) -> None:
    c = ("-c", str(workspace))
    assert invoke("run", "initial", *c)[0] == 0
    ldif = workspace.parent / "ad.ldif"
    text = ldif.read_text("utf-8")
    ldif.write_text(text.replace("department: Sales\n", "department: Sales EMEA\n", 1), "utf-8")
    code, output = invoke("plan", *c)
    assert code == 0, output
    assert "CN={" not in output  # never the target's hex-anchor DN
    assert "update  cloud: William Moran <wmoran@contoso.com>\n" in output
    assert "    department: Sales -> Sales EMEA\n" in output
    code, output = invoke("plan", *c, "--json", "--no-refresh")
    (change,) = json.loads(output)["changes"]
    assert change["display_name"] == "William Moran"
    assert change["user_principal_name"] == "wmoran@contoso.com"
    assert re.fullmatch(r"CN=\{[0-9A-F]+\}", change["dn"])  # the DN stays in --json


def test_names_do_not_change_what_a_plan_signs(workspace: Path) -> None:
    """The fingerprint covers the changes only: a plan saved before the names were
    added still applies."""
    c = ("-c", str(workspace))
    code, output = invoke("plan", *c, "--json")
    assert code == 0, output
    plan = json.loads(output)
    assert plan["summary"] == {"add": 20}
    bare = [
        {k: v for k, v in change.items() if k not in {"display_name", "user_principal_name"}}
        for change in plan["changes"]
    ]
    assert plan["fingerprint"] == fingerprint(bare)
    added = {change["user_principal_name"] for change in plan["changes"]}
    assert "wmoran@contoso.com" in added
    plain = invoke("plan", *c, "--no-refresh")[1]
    assert "add     cloud: William Moran <wmoran@contoso.com>\n" in plain
    assert "    accountEnabled: (none) -> true\n" in plain  # not Python's True
