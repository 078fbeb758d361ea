"""End to end on real components: the Samba AD DC, ``hybridsync run`` and the cloud
directory served over HTTPS. Every employee becomes a Member and every partner a Guest,
with the onPremises* properties; accounts the built-in rules filter stay out; a second
run with no AD change exports nothing."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml, serve_cloud
from tests.support.fixtures import contoso_users
from tests.support.samba import SambaDC, ad_connector_toml

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"


def expected_user_types() -> dict[str, str]:
    """sAMAccountName -> userType in the cloud (upn-suffix mode)."""
    expected = {}
    for sam, values in contoso_users().items():
        upn = values.get("userPrincipalName")
        if upn is None or sam.startswith("MSOL_"):
            continue  # filtered by the built-in rules
        expected[sam] = "Guest" if upn.endswith("@partners.contoso.com") else "Member"
    return expected


def msol_error() -> list[tuple[str, str]]:
    """The one documented error of a cycle: the sync account has no UPN to decide its
    type (the built-in rules keep it out of the cloud anyway)."""
    msol = next(v["dn"] for sam, v in contoso_users().items() if sam.startswith("MSOL_"))
    return [(msol, "UserPrincipalName is not present to determine UserType")]


def errors(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["dn"], e["message"]) for run in report["runs"] for e in run["errors"]]


def write_config(
    tmp_path: Path, samba_dc: SambaDC, server: CloudServer, tenant: CloudTenant
) -> Path:
    ous = [samba_dc.ou("Staff"), samba_dc.ou("Partners")]
    config = tmp_path / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"

[builtin_rules]
source = "ad"
target = "cloud"

[user_type]
source = "upn-suffix"
suffixes = ["@partners.contoso.com"]
{ad_connector_toml(samba_dc, PASSWORD_ENV, ous)}{graph_connector_toml(server, tenant, tmp_path)}""",
        encoding="utf-8",
    )
    return config


def run(config: Path, cycle: str) -> dict[str, Any]:
    command = [str(Path(sys.executable).parent / "hybridsync"), "run", cycle, "--json"]
    done = subprocess.run(
        [*command, "-c", str(config)],
        capture_output=True, text=True, cwd=config.parent, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def exported(report: dict[str, Any]) -> int:
    runs = [r for r in report["runs"] if r["profile"] == "export"]
    return sum(r["counts"].get(k, 0) for r in runs for k in ("add", "update", "delete"))


def cloud_users(tenant: CloudTenant) -> dict[str, dict[str, Any]]:
    select = (
        "id,userPrincipalName,userType,accountEnabled,onPremisesImmutableId,"
        "onPremisesSyncEnabled,onPremisesSamAccountName,onPremisesDistinguishedName,"
        "onPremisesDomainName,onPremisesUserPrincipalName,onPremisesSecurityIdentifier"
    )
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        answer = http.get("/v1.0/users", params={"$select": select, "$top": "999"})
    answer.raise_for_status()
    return {u["onPremisesSamAccountName"]: u for u in answer.json()["value"]}


@dataclass
class Synced:
    tenant: CloudTenant
    config: Path
    initial: dict[str, Any]
    users: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def synced(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """One initial cycle from the session's DC into a freshly served cloud directory."""
    root = tmp_path_factory.mktemp("ad-to-cloud")
    os.environ[PASSWORD_ENV] = samba_dc.admin_password
    try:
        with serve_cloud(root / "cloud") as server:
            tenant = server.new_tenant("contoso.com")
            config = write_config(root, samba_dc, server, tenant)
            initial = run(config, "initial")
            yield Synced(tenant, config, initial, cloud_users(tenant))
    finally:
        os.environ.pop(PASSWORD_ENV, None)


def test_employees_become_members_and_partners_guests(synced: Synced) -> None:
    assert errors(synced.initial) == msol_error()
    assert {sam: u["userType"] for sam, u in synced.users.items()} == expected_user_types()


def test_synced_users_carry_the_on_premises_properties(synced: Synced, samba_dc: SambaDC) -> None:
    samples = contoso_users()
    for sam, user in synced.users.items():
        guid = samba_dc.object_guid(samples[sam]["dn"])
        assert user["onPremisesImmutableId"] == base64.b64encode(guid).decode()
        assert user["onPremisesSyncEnabled"] is True
        assert user["onPremisesUserPrincipalName"] == samples[sam]["userPrincipalName"]
        assert user["onPremisesDomainName"] == samba_dc.fqdn
        assert str(user["onPremisesSecurityIdentifier"]).startswith("S-1-5-21-")
        disabled = int(samples[sam]["userAccountControl"]) & 2
        assert user["accountEnabled"] is (disabled == 0)


def test_synced_users_carry_their_on_premises_dn(synced: Synced) -> None:
    samples = contoso_users()
    for sam, user in synced.users.items():
        assert user["onPremisesDistinguishedName"] == samples[sam]["dn"]


def test_a_second_run_without_ad_changes_writes_nothing_to_the_cloud(synced: Synced) -> None:
    # The directory stamps onPremisesLastSyncDateTime on every write of the sync app.
    before = full_users(synced.tenant)
    quiet = run(synced.config, "delta")
    assert errors(quiet) in ([], msol_error())  # an object in error is tried again
    assert full_users(synced.tenant) == before


def test_a_second_run_without_ad_changes_exports_nothing(synced: Synced) -> None:
    quiet = run(synced.config, "delta")
    assert exported(quiet) == 0


def full_users(tenant: CloudTenant) -> list[dict[str, Any]]:
    select = "id,userPrincipalName,userType,department,onPremisesLastSyncDateTime"
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        answer = http.get("/v1.0/users", params={"$select": select, "$top": "999"})
    answer.raise_for_status()
    return sorted(answer.json()["value"], key=lambda u: u["id"])
