"""docs/walkthrough.md, step by step, against the session's Samba DC (Contoso sample):
its ``fixture=walkthrough`` blocks run as written (``cloud init``, ``cloud serve`` as a
real process, ``init``, ``init --check``, ``run initial``, ``preview``, ``run --delta``),
so a documented command that breaks fails this test."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.conftest import REPO_ROOT
from tests.docs.runnable import DocShell, runnable_blocks
from tests.support.samba import SambaDC

pytestmark = pytest.mark.samba
HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")
MISSING_UPN = "UserPrincipalName is not present to determine UserType"
DOC = REPO_ROOT / "docs" / "walkthrough.md"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"


def hybridsync(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HYBRIDSYNC, *args], cwd=cwd, capture_output=True, text=True, check=False,
        env={**os.environ, **(env or {})}, timeout=300,
    )  # fmt: skip


def test_the_walkthrough(samba_dc: SambaDC, tmp_path: Path) -> None:
    """Every command of the walkthrough's blocks, as written, with the DC's address, the
    tenant's application and the secrets in place of the documented ones."""
    assert samba_dc.admin_upn == "Administrator@corp.contoso.com"  # as documented
    shutil.copy(samba_dc.ca_file, tmp_path / "dc-ca.pem")
    shell = DocShell(
        tmp_path,
        substitutions={"ldaps://dc1.corp.contoso.com": samba_dc.ldaps_url},
        env={"HYBRIDSYNC_AD_PASSWORD": samba_dc.admin_password},
    )
    steps = [step for block in runnable_blocks(DOC, "walkthrough") for step in block.commands()]
    assert [s.line.split()[1] for s in steps if s.line.startswith("hybridsync")] == [
        "cloud", "cloud", "init", "init", "run", "preview", "run",
    ]  # fmt: skip
    outputs: dict[str, str] = {}
    app: dict[str, str] = {}
    try:
        for step in steps:
            done = shell.run(step)
            if done is None:
                continue
            outputs[step.line] = done.stdout
            if "cloud init" in step.line:  # step 1 answers with the sync application
                app = json.loads(done.stdout)["application"]
                shell.substitutions[CLIENT_ID] = app["client_id"]
                shell.env["HYBRIDSYNC_CLOUD_SECRET"] = app["client_secret"]
        first = next(out for line, out in outputs.items() if "run initial" in line)
        assert MISSING_UPN in first  # the MSOL_ account, documented
        port = int(shell.substitutions["8443"])
        users = _cloud_users(port, tmp_path / "cloud-data" / "tls" / "ca.pem", app)
        assert users["jdoe@contoso.com"] == "Member"
        assert users["wmoran@partners.contoso.com"] == "Guest"
        assert not [upn for upn in users if upn.lower().startswith("msol_")]
        groups = _cloud_groups(port, tmp_path / "cloud-data" / "tls" / "ca.pem", app)
        partners = "partners.contoso.com"
        assert groups == {
            "Partners - Project X": {
                f"wmoran@{partners}", f"msullivan@{partners}", f"dberger@{partners}",
                f"ccline@{partners}", "Project X - Northwind Traders",
            },
            "Project X - Northwind Traders": {f"ecattaneo@{partners}", f"isayers@{partners}"},
            "Contoso Employees": {u for u, kind in users.items() if kind == "Member"} - {
                "rtemp@contoso.com"
            },
        }  # fmt: skip
        history = hybridsync(
            tmp_path, "history", "--config", "hybridsync.toml", "--json", "--limit", "1",
            env=shell.env,
        )  # fmt: skip
        assert history.returncode == 0, history.stderr
        (delta_export,) = json.loads(history.stdout)
        assert delta_export["profile"] == "export"
        writes = delta_export["counts"]
        assert sum(writes.get(k, 0) for k in ("add", "update", "delete")) == 0
    finally:
        shell.close()


def _token(http: httpx.Client, app: dict[str, str]) -> dict[str, str]:
    token = http.post(
        "/contoso.com/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": app["client_id"],
              "client_secret": app["client_secret"],
              "scope": "https://graph.microsoft.com/.default"},
    )  # fmt: skip
    token.raise_for_status()
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _cloud_groups(port: int, ca: Path, app: dict[str, str]) -> dict[str, set[str]]:
    """displayName -> direct members (users by UPN, groups by displayName)."""
    base = f"https://127.0.0.1:{port}"
    with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=ca)) as http:
        headers = _token(http, app)
        groups = http.get("/v1.0/groups", headers=headers)
        groups.raise_for_status()
        found: dict[str, set[str]] = {}
        for group in groups.json()["value"]:
            members = http.get(f"/v1.0/groups/{group['id']}/members", headers=headers)
            members.raise_for_status()
            found[group["displayName"]] = {
                m.get("userPrincipalName") or m["displayName"] for m in members.json()["value"]
            }
    return found


def _cloud_users(port: int, ca: Path, app: dict[str, str]) -> dict[str, str]:
    """userPrincipalName -> userType, read with the sync app's own token."""
    base = f"https://127.0.0.1:{port}"
    with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=ca)) as http:
        token = http.post(
            "/contoso.com/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": app["client_id"],
                  "client_secret": app["client_secret"],
                  "scope": "https://graph.microsoft.com/.default"},
        )  # fmt: skip
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answer = http.get(
            "/v1.0/users", params={"$select": "userPrincipalName,userType", "$top": "999"},
            headers=headers,
        )  # fmt: skip
    answer.raise_for_status()
    return {u["userPrincipalName"]: u["userType"] for u in answer.json()["value"]}
