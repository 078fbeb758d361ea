"""The switch-over from Entra Connect on real components: the configuration
``hybridsync migrate entra-connect`` writes from Connect's export, with its placeholders
filled in for the Samba AD DC and the served cloud directory.

A tenant that configuration wrote (as Connect wrote it with the same rules) shows no
differences under ``migrate verify``; an edit of one migrated rule shows exactly the
attribute it changes, for exactly the users it affects.

What this DC lacks: the Exchange schema (Samba's schema is AD's base schema, as in a
forest where Exchange was never installed). The migrated AD attribute list names msExch*,
msRTCSIP-* and mailNickname, which its users cannot hold; they read as absent, as for an
AD user without a mailbox. So "In from AD - User Common from Exchange" (scoped to
users with a mailNickname) selects nobody here, and the Exchange flows are not exercised.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ldap
import pytest
from tests.conftest import REPO_ROOT
from tests.support.cloud_server import CloudServer, CloudTenant, serve_cloud
from tests.support.samba import SambaDC
from tests.support.workspace import invoke

from hybridsync.config.migrate.tomlout import document_toml

pytestmark = pytest.mark.samba
EXPORT = REPO_ROOT / "tests" / "data" / "entra-connect-export"
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"  # the variable the migrated file names
SELECT = ",".join(
    ("userPrincipalName", "displayName", "department", "onPremisesImmutableId",
     "accountEnabled", "onPremisesSamAccountName", "onPremisesDomainName")
)  # fmt: skip


@dataclass(frozen=True)
class Switchover:
    migrated: Path
    config: Path
    tenant: CloudTenant
    samba: SambaDC


def migrate(out: Path) -> Path:
    """What an administrator runs first: the CLI, on Connect's server export."""
    code, output = invoke("migrate", "entra-connect", str(EXPORT), "--out", str(out))
    assert code == 0, output
    return out / "hybridsync.toml"


def fill_in_placeholders(
    config: Path, dc: SambaDC, server: CloudServer, tenant: CloudTenant
) -> None:
    """Point the migrated connectors at the test's DC and tenant, as an administrator
    fills in what the report names under "To fill in": connector names, rule files and
    the AD attribute list stay as migrated, since the rules depend on them."""
    document: dict[str, Any] = tomllib.loads(config.read_text("utf-8"))
    by_name = {connector["name"]: connector for connector in document["connectors"]}
    by_name["ad"].update(
        url=dc.ldaps_url,
        bind_user=dc.admin_upn,
        ca_file=str(dc.ca_file),
        base_dn=dc.base_dn,
        include_ous=[dc.ou("Staff"), dc.ou("Partners")],
        exclude_ous=[],
    )
    (config.parent / "graph.secret").write_text(tenant.sync_app.client_secret or "", "utf-8")
    cloud = by_name["cloud"]
    del cloud["client_secret_env"]
    cloud.update(
        base_url=f"{server.base_url}/v1.0",
        authority=tenant.authority,
        client_id=tenant.sync_app.application.client_id,
        client_secret_file="graph.secret",
        ca_file=str(server.ca_path),
        target="hybridsync",
    )
    config.write_text(document_toml(document), "utf-8")


def set_staging_mode(config: Path, staging: bool) -> None:
    document: dict[str, Any] = tomllib.loads(config.read_text("utf-8"))
    document["staging_mode"] = staging
    config.write_text(document_toml(document), "utf-8")


def cloud_users(tenant: CloudTenant) -> dict[str, dict[str, Any]]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        answer = http.get("/v1.0/users", params={"$select": SELECT, "$top": "999"})
    answer.raise_for_status()
    return {user["userPrincipalName"]: user for user in answer.json()["value"]}


@pytest.fixture(scope="module")
def switchover(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Switchover]:
    """The migrated configuration, filled in; the tenant one run of it wrote."""
    root = tmp_path_factory.mktemp("switchover-samba")
    os.environ[PASSWORD_ENV] = samba_dc.admin_password
    try:
        with serve_cloud(root / "cloud") as server:
            tenant = server.new_tenant("contoso.com")
            config = migrate(root / "migrated")
            fill_in_placeholders(config, samba_dc, server, tenant)
            # The switch-over itself: staging off and a cycle, with the CLI. Exit 0: no
            # run stopped and no object error (1 and 2 say otherwise).
            set_staging_mode(config, False)
            code, output = invoke("run", "initial", "-c", str(config), "--no-progress")
            assert code == 0, output
            set_staging_mode(config, True)
            yield Switchover(config.parent, config, tenant, samba_dc)
    finally:
        os.environ.pop(PASSWORD_ENV, None)


def ad_users(dc: SambaDC) -> dict[str, dict[str, list[bytes]]]:
    """The users of the OUs the connector reads, by sAMAccountName."""
    wanted = ["userPrincipalName", "displayName", "cn", "department", "objectGUID",
              "userAccountControl", "sAMAccountName"]  # fmt: skip
    users = {}
    for ou in ("Staff", "Partners"):
        found = dc.search(dc.ou(ou), "(&(objectClass=user)(!(objectClass=computer)))",
                          scope=ldap.SCOPE_SUBTREE, attributes=wanted)  # fmt: skip
        users.update({entry["sAMAccountName"][0].decode(): entry for _, entry in found})
    return users


def text(entry: dict[str, list[bytes]], name: str) -> str | None:
    return entry[name][0].decode() if name in entry else None


def connect_gives(entry: dict[str, list[bytes]]) -> dict[str, Any]:
    """What Connect's default rules write for an AD user, computed here from the AD entry:
    "In from AD - User Common" trims department and falls back to cn for displayName;
    "In from AD - User AccountEnabled" takes the sourceAnchor as objectGUID in base64."""
    department = text(entry, "department")
    return {
        "userPrincipalName": text(entry, "userPrincipalName"),
        "displayName": text(entry, "displayName") or text(entry, "cn"),
        "department": department.strip() if department else None,
        "onPremisesImmutableId": base64.b64encode(entry["objectGUID"][0]).decode(),
        "accountEnabled": not int(entry["userAccountControl"][0]) & 2,
    }


def edited_copy(migrated: Path, into: Path, rule: str, old: str, new: str) -> Path:
    """A copy of the migrated configuration with one flow of ``rule`` edited in its rule
    file, as an administrator edits it: the first ``old`` after the rule's name."""
    shutil.copytree(migrated, into)
    for path in (into / "rules").glob("*.toml"):
        content = path.read_text("utf-8")
        header = f"name = {json.dumps(rule)}\n"
        if header in content:
            at = content.index(header)
            flow = content.index(old, at)
            assert content.rfind("[[rule]]", at, flow) == -1, f"{old!r} is not in {rule!r}"
            path.write_text(content[:flow] + new + content[flow + len(old) :], "utf-8")
            return into / "hybridsync.toml"
    raise AssertionError(f"no rule {rule!r} in the migrated rule files")


@dataclass(frozen=True)
class Edit:
    """One edit of a migrated flow and the one attribute change it makes."""

    rule: str
    old: str
    new: str
    attribute: str
    affects: Callable[[dict[str, Any]], bool]
    after: Callable[[str], str]


EDITS = {
    "inbound": Edit(
        "In from AD - User Common",
        'expression = "Trim([department])"',
        'expression = "IIF(Trim([department]) = \\"Sales\\", \\"Sales EMEA\\", '
        'Trim([department]))"',
        "department",
        lambda user: user["department"] == "Sales",
        lambda _: "Sales EMEA",
    ),
    "outbound": Edit(
        "Out to AAD - User Identity",
        'target = "displayName"\nmerge = "Update"\ntype = "Direct"\nsource = "displayName"\n',
        'target = "displayName"\nmerge = "Update"\ntype = "Expression"\n'
        """expression = 'IIF(InStr([userPrincipalName], "@partners.") > 0, """
        """[displayName] & " (Partner)", [displayName])'\n"""
        'sources = ["userPrincipalName", "displayName"]\n',
        "displayName",
        lambda user: user["userPrincipalName"].endswith("@partners.contoso.com"),
        lambda before: f"{before} (Partner)",
    ),
}


def test_the_migrated_rules_wrote_what_connects_rules_give(switchover: Switchover) -> None:
    ad = ad_users(switchover.samba)
    cloud = {
        user["onPremisesSamAccountName"]: user for user in cloud_users(switchover.tenant).values()
    }
    # "In from AD - User Join" sets cloudFiltered for Connect's own MSOL_ account.
    filtered = {name for name in ad if name.startswith("MSOL_")}
    assert len(filtered) == 1
    assert len(ad) > 20
    assert set(cloud) == set(ad) - filtered
    for name, user in cloud.items():
        expected = connect_gives(ad[name])
        assert {attribute: user[attribute] for attribute in expected} == expected, name
    # Connect's %Domain.FQDN% is the export's domain, a constant in the migrated rules.
    assert {user["onPremisesDomainName"] for user in cloud.values()} == {"contoso.com"}
    assert [name for name, user in cloud.items() if not user["accountEnabled"]] != []


def test_verify_with_the_migrated_configuration_shows_no_differences(
    switchover: Switchover,
) -> None:
    code, output = invoke("migrate", "verify", "-c", str(switchover.config), "--json")
    assert code == 0, output
    document = json.loads(output)
    assert (document["changes"], document["unjoined"], document["errors"]) == ([], [], [])


def test_after_the_switch_over_nothing_is_left_to_export(switchover: Switchover) -> None:
    """The run's own store: every export was confirmed, none is sent again."""
    code, output = invoke("plan", "-c", str(switchover.config), "--json")
    assert code == 0, output
    assert json.loads(output)["changes"] == []


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_an_edited_migrated_rule_lists_exactly_its_attribute_for_the_users_it_changes(
    switchover: Switchover, edit: Edit, tmp_path: Path
) -> None:
    cloud_before = cloud_users(switchover.tenant)
    affected = {upn for upn, user in cloud_before.items() if edit.affects(user)}
    assert 1 < len(affected) < len(cloud_before)
    edited = edited_copy(switchover.migrated, tmp_path / "edited", edit.rule, edit.old, edit.new)
    code, output = invoke("migrate", "verify", "-c", str(edited), "--json")
    assert code == 1, output
    document = json.loads(output)
    assert (document["unjoined"], document["errors"]) == ([], [])
    assert {change["user_principal_name"] for change in document["changes"]} == affected
    for change in document["changes"]:
        assert (change["connector"], change["kind"]) == ("cloud", "update")
        before = cloud_before[change["user_principal_name"]][edit.attribute]
        assert change["attributes"] == [
            {"name": edit.attribute, "before": [before], "after": [edit.after(before)]}
        ]
    assert cloud_users(switchover.tenant) == cloud_before  # verify exported nothing


def test_verify_refuses_a_rule_that_writes_to_ad_as_the_switch_over_would(
    switchover: Switchover, tmp_path: Path
) -> None:
    """Connect's Exchange hybrid write-back, enabled again by hand: a staging run exports
    nothing, but the first cycle after the switch-over would fail on it."""
    rule = "Out to AD - User Exchange Hybrid"
    edited = edited_copy(
        switchover.migrated, tmp_path / "edited", rule, "disabled = true", "disabled = false"
    )
    code, output = invoke("migrate", "verify", "-c", str(edited), "--json")
    assert code == 3, output
    assert (
        f"connector 'ad' cannot export, yet enabled outbound rules write to it ({rule!r} in "
        f"{edited.parent / 'rules' / 'outbound-user.toml'}"
    ) in output
