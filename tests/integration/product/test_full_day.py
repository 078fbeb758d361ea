"""A full day of operation, through the command line only, against real servers.

Samba AD DC on one side, the cloud directory served over HTTPS on the other (the Graph
connector with msal tokens), and in between every command an administrator uses:
init and its check, the initial run, plan and apply, preview, AD changes picked up by
scheduler ticks, an object in error found in the history and fixed, and a mass delete
stopped by the threshold, then let through on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.product.conftest import invoke
from tests.support.cloud_server import CloudServer, CloudTenant, serve_cloud
from tests.support.samba import SambaDC

pytestmark = [pytest.mark.samba, pytest.mark.slow]

STAFF = [f"fdstaff{i:02}" for i in range(1, 11)]
PARTNERS = [f"fdpartner{i:02}" for i in range(1, 5)]


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[tuple[CloudServer, CloudTenant]]:
    with serve_cloud(tmp_path / "cloud") as server:
        yield server, server.new_tenant("contoso.com")


class Day:
    """The directory on both sides and the CLI, for one test."""

    def __init__(self, dc: SambaDC, tenant: CloudTenant, config: Path) -> None:
        self.dc, self.tenant, self.config = dc, tenant, config
        root = dc.add_ou("FullDay")
        self.staff_ou = dc.add_ou("Staff", parent_dn=root)
        self.partner_ou = dc.add_ou("Partners", parent_dn=root)
        self.dns: dict[str, str] = {}

    def add(self, sam: str, *, partner: bool = False, upn: bool = True) -> str:
        domain = "partners.contoso.com" if partner else "contoso.com"
        dn = self.dc.add_user(
            sam,
            ou_dn=self.partner_ou if partner else self.staff_ou,
            upn=f"{sam}@{domain}" if upn else None,
            attributes={"displayName": sam.capitalize(), "title": "Consultant"},
        )
        self.dns[sam] = dn
        return dn

    def cli(self, *args: str) -> tuple[int, str]:
        return invoke(*args, "-c", str(self.config))

    def cli_json(self, *args: str, expect: int = 0) -> Any:
        code, output = self.cli(*args, "--json")
        assert code == expect, output
        return json.loads(output)

    def cloud_users(self) -> dict[str, dict[str, Any]]:
        token = self.tenant.app_token(self.tenant.admin_app)
        select = "userPrincipalName,userType,jobTitle,displayName,onPremisesSyncEnabled"
        with self.tenant.client(token) as http:
            answer = http.get("/v1.0/users", params={"$select": select, "$top": "999"})
        answer.raise_for_status()
        return {u["userPrincipalName"].split("@")[0]: u for u in answer.json()["value"]}


def exported(cycle: dict[str, Any]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for run in cycle["runs"]:
        if run["profile"] == "export":
            for kind, count in run["counts"].items():
                totals[kind] = totals.get(kind, 0) + count
    return {k: v for k, v in totals.items() if k in {"add", "update", "delete"} and v}


def test_a_full_day_of_operation(
    samba_dc: SambaDC,
    cloud: tuple[CloudServer, CloudTenant],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, tenant = cloud
    day = Day(samba_dc, tenant, tmp_path / "hybridsync.toml")
    for sam in STAFF:
        day.add(sam)
    for sam in PARTNERS:
        day.add(sam, partner=True)

    # 08:00 init writes the configuration; --check reaches both sides.
    code, output = day.cli(
        "init", "--ad-url", samba_dc.ldaps_url, "--bind-user", samba_dc.admin_upn,
        "--ad-ca-file", str(samba_dc.ca_file),
        "--include-ou", day.staff_ou, "--include-ou", day.partner_ou,
        "--cloud-url", server.base_url, "--tenant", tenant.id,
        "--client-id", tenant.sync_app.application.client_id,
        "--cloud-ca-file", str(server.ca_path), "--partner-suffix", "@partners.contoso.com",
    )  # fmt: skip
    assert code == 0, output
    text = day.config.read_text("utf-8")
    day.config.write_text(text.replace("deletion_threshold = 500", "deletion_threshold = 3"))
    monkeypatch.setenv("HYBRIDSYNC_AD_PASSWORD", samba_dc.admin_password)
    monkeypatch.setenv("HYBRIDSYNC_CLOUD_SECRET", tenant.sync_app.client_secret or "")
    checks = {c["connector"]: c for c in day.cli_json("init", "--check")}
    assert checks["ad"]["ok"], checks
    assert checks["cloud"]["ok"], checks

    # 08:05 the initial run: employees as members, partners as guests.
    first = day.cli_json("run", "initial")
    assert first["status"] == "success"
    assert exported(first) == {"add": 14}
    users = day.cloud_users()
    assert {sam: users[sam]["userType"] for sam in PARTNERS} == dict.fromkeys(PARTNERS, "Guest")
    assert {sam: users[sam]["userType"] for sam in STAFF} == dict.fromkeys(STAFF, "Member")
    assert all(users[sam]["onPremisesSyncEnabled"] for sam in STAFF + PARTNERS)
    assert exported(day.cli_json("run")) == {}  # nothing changed: nothing exported

    # 09:00 a promotion in AD: plan it, review it, apply exactly it.
    samba_dc.modify(day.dns["fdstaff01"], {"title": "Director"})
    plan_file = tmp_path / "plan.json"
    plan = day.cli_json("plan", "--out", str(plan_file))
    assert plan["summary"] == {"update": 1}
    (change,) = plan["changes"]
    assert {a["name"]: (a["before"], a["after"]) for a in change["attributes"]} == {
        "jobTitle": (["Consultant"], ["Director"])
    }
    assert day.cli_json("apply", str(plan_file))["status"] == "success"
    assert day.cloud_users()["fdstaff01"]["jobTitle"] == "Director"

    # 10:00 why is fdpartner01 a guest? preview shows the rule that decided it.
    code, output = day.cli("preview", day.dns["fdpartner01"], "--connector", "ad")
    assert code == 0, output
    assert "userType = Guest   <- In from AD - User UserType" in output

    # 11:00 AD changes; the scheduler's ticks pick them up.
    day.add("fdpartner05", partner=True)
    day.add("fdstaff11")
    samba_dc.modify(day.dns["fdpartner02"], {"displayName": "Partner Two"})
    code, output = day.cli("scheduler", "--max-cycles", "1")
    assert code == 0, output
    users = day.cloud_users()
    assert users["fdpartner05"]["userType"] == "Guest"
    assert users["fdstaff11"]["userType"] == "Member"
    assert users["fdpartner02"]["displayName"] == "Partner Two"

    # 13:00 a user created without a UPN: an object error; the run goes on.
    bad_dn = day.add("fdnoupn", upn=False)
    day.add("fdstaff12")
    assert day.cli("scheduler", "--max-cycles", "1")[0] == 0
    assert "fdstaff12" in day.cloud_users()
    errors = day.cli_json("history", "--grep", "fdnoupn", "--limit", "1")
    (error,) = errors[0]["errors"]
    assert (error["dn"], error["attribute"]) == (bad_dn, "userType")
    assert error["message"] == "UserPrincipalName is not present to determine UserType"
    samba_dc.modify(bad_dn, {"userPrincipalName": "fdnoupn@contoso.com"})  # the fix
    assert day.cli("scheduler", "--max-cycles", "1")[0] == 0
    assert day.cloud_users()["fdnoupn"]["userType"] == "Member"
    latest_sync = day.cli_json("history", "--connector", "ad", "--limit", "5")
    assert next(r for r in latest_sync if r["profile"] == "delta-sync")["status"] == "success"

    # 15:00 an OU clean-up deletes five users: more than the threshold, nothing deleted.
    leaving = STAFF[5:]
    for sam in leaving:
        samba_dc.delete(day.dns[sam])
    stopped = day.cli_json("run", expect=2)
    assert stopped["status"] == "stopped-deletion-threshold-exceeded"
    assert set(leaving) <= set(day.cloud_users())
    assert day.cli_json("history", "--status", "stopped", "--limit", "1")[0]["profile"] == "export"

    # 15:10 checked with the owner: let this one through.
    allowed = day.cli_json("run", "--allow-deletes")
    assert allowed["status"] == "success"
    assert exported(allowed) == {"delete": 5}
    remaining = set(day.cloud_users())
    assert not set(leaving) & remaining
    assert len(remaining) == 14 + 3 + 1 - 5
    status = day.cli_json("status")
    assert {row["connector"]: row["pending_exports"] for row in status["connectors"]} == {
        "ad": 0,
        "cloud": 0,
    }
