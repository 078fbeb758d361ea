"""Microsoft's default rules, migrated from the bundled Connect export, against the
built-in rule set, both run on the bundled Contoso sample into the served cloud directory.

The users must be the same; the attributes whose values differ must be exactly the ones
docs/migrate.md lists with their cause, and the custom rules it shows must close the
differences it says they close."""

from __future__ import annotations

import re
import shutil
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REPO_ROOT
from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml, serve_cloud
from tests.support.workspace import invoke

from hybridsync.config.migrate.tomlout import document_toml
from hybridsync.connectors.graph.mapping import Target
from hybridsync.engine import CycleReport, Profile
from hybridsync.wiring import build_from_file
from hybridsync.wiring.demo import CONFIG as DEMO_CONFIG

EXPORT = REPO_ROOT / "tests" / "data" / "entra-connect-export"
SAMPLE = REPO_ROOT / "src" / "hybridsync" / "samples" / "contoso.ldif"
DOC = REPO_ROOT / "docs" / "migrate.md"
SECTION = "## Microsoft's default rules and the built-in rule set"
LDIF_SOURCE = """
[[connectors]]
type = "ldif"
name = "ad"
path = "contoso.ldif"
"""
Users = dict[str, dict[str, Any]]


def section() -> str:
    return DOC.read_text("utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]


def documented_rows() -> dict[str, list[str]]:
    """The table of the doc's section: attribute (first column, in backticks) → its cells."""
    rows = re.findall(r"^\| `([^`]+)` \|(.*)\|$", section(), flags=re.MULTILINE)
    return {name: [cell.strip() for cell in cells.split(" | ")] for name, cells in rows}


def documented_differences() -> set[str]:
    return set(documented_rows())


def documented_rules() -> str:
    """The custom rules the doc's section shows (its one TOML block)."""
    (block,) = re.findall(r"```toml\n(.*?)```", section(), flags=re.DOTALL)
    return str(block)


def workspace(root: Path) -> Path:
    root.mkdir()
    shutil.copy(SAMPLE, root / "contoso.ldif")
    return root


def migrated_config(
    root: Path, server: CloudServer, tenant: CloudTenant, extra_rules: str | None = None
) -> Path:
    """Connect's migrated configuration, its AD connector replaced by an LDIF connector of
    the same name reading the sample, its Graph connector pointed at ``tenant``."""
    out = root / "migrated"
    code, output = invoke("migrate", "entra-connect", str(EXPORT), "--out", str(out))
    assert code == 0, output
    migrated: dict[str, Any] = tomllib.loads((out / "hybridsync.toml").read_text("utf-8"))
    assert [c["name"] for c in migrated["connectors"]] == ["ad", "cloud"]
    rules = [str(out / path) for path in migrated["rules"]]
    if extra_rules is not None:
        (root / "custom.toml").write_text(extra_rules, "utf-8")
        rules.append(str(root / "custom.toml"))
    document = {"staging_mode": False, "store": "state.db", "rules": rules}
    text = document_toml(document) + LDIF_SOURCE + graph_connector_toml(server, tenant, root)
    config = root / "hybridsync.toml"
    config.write_text(text, "utf-8")
    return config


def builtin_config(root: Path, server: CloudServer, tenant: CloudTenant) -> Path:
    """The demo's configuration, its embedded cloud replaced by ``tenant``."""
    source_only, _embedded_cloud = DEMO_CONFIG.rsplit("[[connectors]]", 1)
    config = root / "hybridsync.toml"
    config.write_text(source_only + graph_connector_toml(server, tenant, root), "utf-8")
    return config


def run_into_cloud(config: Path) -> CycleReport:
    """A full cycle exporting to the cloud only: the LDIF source takes no export (the
    writeback Connect's "Out to AD" rules plan for it stays pending)."""
    built = build_from_file(config)
    try:
        cycle = built.engine.cycle("initial", export=False)
        cycle.runs.append(built.engine.run("cloud", Profile.EXPORT))
    finally:
        built.close()
    return cycle


def cloud_users(tenant: CloudTenant) -> Users:
    select = Target(synced_markers=True).select()
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        answer = http.get("/v1.0/users", params={"$select": select, "$top": "999"})
    answer.raise_for_status()
    return {user["onPremisesImmutableId"]: user for user in answer.json()["value"]}


def differing_attributes(left: Users, right: Users) -> dict[str, set[str]]:
    """Attribute → the UPNs of the users whose values differ (users matched by anchor)."""
    differences: dict[str, set[str]] = {}
    for anchor, user in left.items():
        other = right[anchor]
        for name in (set(user) | set(other)) - {"id"}:
            if user.get(name) != other.get(name):
                differences.setdefault(name, set()).add(user["userPrincipalName"])
    return differences


@dataclass(frozen=True)
class Tenants:
    migrated: Users
    builtin: Users
    migrated_with_custom_rules: Users
    migrated_config: Path


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    root = tmp_path_factory.mktemp("equivalence")
    with serve_cloud(root / "cloud") as server:
        written: list[Users] = []
        configs: list[Path] = []
        for name in ("migrated", "builtin", "custom"):
            tenant = server.new_tenant("contoso.com")
            folder = workspace(root / name)
            if name == "builtin":
                config = builtin_config(folder, server, tenant)
            else:
                extra = documented_rules() if name == "custom" else None
                config = migrated_config(folder, server, tenant, extra)
            cycle = run_into_cloud(config)
            exported = cycle.runs[-1]
            assert exported.errors == [], exported.errors
            # The sample's 26 users; the demo's configuration reads its 3 groups too, and
            # the members and managers naming objects of the same export follow as updates.
            expected = {"add": 29, "update": 20} if name == "builtin" else {"add": 26}
            assert exported.counts == expected, exported.counts
            errors = [str(error) for run in cycle.runs for error in run.errors]
            if name == "builtin":
                # As the demo says: the userType rule refuses the account without a UPN
                # (an account both rule sets filter out of the cloud).
                (error,) = errors
                assert "CN=MSOL Sync," in error
                assert "UserPrincipalName is not present to determine UserType" in error
            else:
                assert errors == []
            written.append(cloud_users(tenant))
            configs.append(config)
        yield Tenants(written[0], written[1], written[2], configs[0])


def test_both_rule_sets_give_the_same_users(tenants: Tenants) -> None:
    assert len(tenants.builtin) == 26
    assert set(tenants.migrated) == set(tenants.builtin)
    upns = {user["userPrincipalName"] for user in tenants.builtin.values()}
    assert {user["userPrincipalName"] for user in tenants.migrated.values()} == upns
    accounts = {user["onPremisesSamAccountName"] for user in tenants.migrated.values()}
    assert "avance" in accounts
    assert not any(account.lower().startswith("msol_") for account in accounts)  # filtered


def test_the_values_that_differ_are_exactly_the_documented_ones(tenants: Tenants) -> None:
    differences = differing_attributes(tenants.migrated, tenants.builtin)
    documented = documented_differences()
    assert "userType" in documented
    assert set(differences) == documented, differences
    partners = {upn for upn in differences["userType"] if upn.endswith("@partners.contoso.com")}
    assert differences["userType"] == partners
    assert {user["userType"] for user in tenants.migrated.values()} == {"Member"}
    # Everything else is the same value for every user: these are written by both.
    same = ("displayName", "mail", "mailNickname", "accountEnabled", "department", "jobTitle",
            "onPremisesSecurityIdentifier", "onPremisesSamAccountName")  # fmt: skip
    for name in same:
        assert name not in differences
        assert any(user.get(name) is not None for user in tenants.migrated.values()), name


def test_what_the_doc_says_microsofts_rules_do_not_write_they_do_not_write(
    tenants: Tenants,
) -> None:
    not_written = {name for name, cells in documented_rows().items() if cells[1] == "not written"}
    assert {"usageLocation", "employeeId", "onPremisesDistinguishedName"} <= not_written
    for name in not_written:
        assert {user.get(name) for user in tenants.migrated.values()} == {None}, name
        assert any(user.get(name) for user in tenants.builtin.values()), name


def test_the_documented_custom_rules_close_the_differences_they_target(
    tenants: Tenants,
) -> None:
    rules = tomllib.loads(documented_rules())["rule"]
    targeted = {
        flow["target"] for rule in rules if rule["direction"] == "outbound" for flow in rule["flow"]
    }
    assert targeted == {"userType", "usageLocation"}
    differences = differing_attributes(tenants.migrated_with_custom_rules, tenants.builtin)
    assert set(differences) == documented_differences() - targeted, differences


def test_the_migrated_rules_show_no_differences_in_the_tenant_they_wrote(
    tenants: Tenants,
) -> None:
    """A second run changes nothing: no value the migrated rules write is one the cloud
    keeps differently (for example the alias it derives for a user without one)."""
    code, output = invoke("migrate", "verify", "-c", str(tenants.migrated_config))
    assert code == 0, output
    assert output == "No differences: hybridsync would change nothing in the cloud.\n"
