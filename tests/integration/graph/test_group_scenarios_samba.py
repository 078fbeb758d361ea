"""Groups from the Samba AD DC into the served cloud directory, the scenarios beyond one
group's life: group-based filtering (``[filter] group``), the deletion threshold counting
groups, and a partner's ID token carrying the group synced from AD (msal, ROPC, her AD
password checked by a pass-through agent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.cloud_server import CloudServer, serve_cloud
from tests.support.samba import USER_PASSWORD, SambaDC, admin_password_check
from tests.support.samba_org import PASSWORD_ENV, SambaOrg, samba_org
from tests.support.signin import GRAPH_USER_READ, msal_app, public_client, running_agent

from hybridsync.engine import Status

pytestmark = [
    pytest.mark.samba,
    # msal deprecates the password grant for public clients; it is the grant used here.
    pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning"),
]
PARTNERS = "partners.contoso.com"
GUESTS = f'[user_type]\nsource = "upn-suffix"\nsuffixes = ["@{PARTNERS}"]\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with serve_cloud(tmp_path_factory.mktemp("cloud")) as served:
        yield served


@pytest.fixture
def org(samba_dc: SambaDC, server: CloudServer, tmp_path: Path) -> Iterator[SambaOrg]:
    with samba_org(samba_dc, server, tmp_path, "GroupScenarios") as created:
        yield created


def exported(report: Any) -> dict[str, int]:
    counts = [run.counts for run in report.runs if run.profile.value == "export"]
    return {k: sum(c.get(k, 0) for c in counts) for k in ("add", "update", "delete")}


def add_users(org: SambaOrg, *names: str) -> None:
    for name in names:
        org.dc.add_user(org.name(name), ou_dn=org.ou, upn=org.upn(name, PARTNERS))


def partner_upns(org: SambaOrg, *names: str) -> set[str]:
    return {org.upn(name, PARTNERS) for name in names}


def test_group_filtering_syncs_only_the_pilot_groups_direct_members(org: SambaOrg) -> None:
    add_users(org, "ann", "bob", "cid", "dan")
    nested = org.dc.add_group(org.name("Nested"), ou_dn=org.ou, members=[org.dn("cid")])
    pilot = org.dc.add_group(org.name("Pilot"), ou_dn=org.ou, members=[org.dn("ann"), nested])
    org.dc.add_group(org.name("Other"), ou_dn=org.ou, members=[org.dn("bob")])
    org.settings = f'[filter]\ngroup = "{pilot}"\n'

    org.cycle("initial")
    # ann and the nested group are direct members; cid is in the nested group only, bob
    # in another group; the pilot group is not its own member.
    assert org.users() == partner_upns(org, "ann")
    assert set(org.groups()) == {org.name("Nested")}
    assert org.members("Nested") == set()  # cid is out of scope: no member in the cloud

    org.dc.add_members(pilot, [org.dn("bob")])  # joining is entering scope
    assert exported(org.cycle("delta"))["add"] == 1
    assert org.users() == partner_upns(org, "ann", "bob")

    org.dc.remove_members(pilot, [org.dn("ann")])  # leaving is a delete in the cloud
    assert exported(org.cycle("delta"))["delete"] == 1
    assert org.users() == partner_upns(org, "bob")

    # The pilot group deleted in AD: the sync stops instead of deleting everyone.
    org.dc.delete(pilot)
    stopped = org.built.engine.cycle("delta")
    assert stopped.status == Status.STOPPED_FILTER_GROUP_MISSING
    assert any("[filter] group" in run.message for run in stopped.runs if run.message)
    assert org.users() == partner_upns(org, "bob")
    assert set(org.groups()) == {org.name("Nested")}


def test_the_deletion_threshold_counts_groups(org: SambaOrg) -> None:
    add_users(org, "ann")
    groups = [
        org.dc.add_group(org.name(f"Team{n}"), ou_dn=org.ou, members=[org.dn("ann")])
        for n in range(4)
    ]
    org.settings = "[safety]\ndeletion_threshold = 2\n"
    org.cycle("initial")
    assert len(org.groups()) == 4
    for dn in groups[:3]:
        org.dc.delete(dn)
    stopped = org.built.engine.cycle("delta")
    assert stopped.status == Status.STOPPED_DELETION_THRESHOLD
    assert len(org.groups()) == 4  # nothing deleted
    assert org.users() == partner_upns(org, "ann")


def configure(org: SambaOrg, client_id: str, **settings: Any) -> None:
    """An application's token settings, as an administrator of applications sets them."""
    app = org.tenant.add_app(["Application.ReadWrite.All"])
    with org.tenant.client(org.tenant.app_token(app)) as http:
        answer = http.patch(f"/v1.0/applications/{client_id}", json=settings)
    assert answer.status_code == 204, answer.text


def sign_in(org: SambaOrg, client_id: str, upn: str) -> dict[str, Any]:
    result = msal_app(org.tenant, client_id).acquire_token_by_username_password(
        upn, USER_PASSWORD, scopes=[GRAPH_USER_READ]
    )
    assert "id_token_claims" in result, result
    claims: dict[str, Any] = result["id_token_claims"]
    return claims


def test_a_partner_signs_in_with_the_synced_ad_group_in_her_id_token(
    org: SambaOrg, samba_dc: SambaDC
) -> None:
    add_users(org, "ann", "eve", "zed")
    northwind = org.dc.add_group(org.name("Northwind"), ou_dn=org.ou, members=[org.dn("eve")])
    org.dc.add_group(
        org.name("ProjectX"), ou_dn=org.ou, members=[org.dn("ann"), northwind]
    )  # as "Partners - Project X" of the sample: partners and a nested group of partners
    org.settings = GUESTS
    org.cycle("initial")
    groups = org.groups()
    project, nested = groups[org.name("ProjectX")], groups[org.name("Northwind")]
    assert project["onPremisesSyncEnabled"] is True  # synced from AD, not made in the cloud
    guest = org.get_json(f"/v1.0/users/{org.upn('ann', PARTNERS)}?$select=userType")
    assert guest["userType"] == "Guest"

    client = public_client(org.tenant)
    check = admin_password_check(samba_dc, PASSWORD_ENV)

    def checker(anchor: str, password: str) -> str:
        return str(check.check(anchor, password))

    try:
        with running_agent(org.tenant, org.root / "agent", checker) as agent:
            configure(org, client, groupMembershipClaims="SecurityGroup")
            before = agent.answered
            claims = sign_in(org, client, org.upn("ann", PARTNERS))
            assert agent.answered == before + 1  # her AD password, checked on-premises
            assert claims["groups"] == [project["id"]]
            # Transitive: the nested group's partner holds both groups.
            nested_claims = sign_in(org, client, org.upn("eve", PARTNERS))
            assert sorted(nested_claims["groups"]) == sorted([project["id"], nested["id"]])
            assert not sign_in(org, client, org.upn("zed", PARTNERS)).get("groups")

            optional = {
                "idToken": [{"name": "groups", "additionalProperties": ["sam_account_name"]}]
            }
            configure(org, client, optionalClaims=optional)
            claims = sign_in(org, client, org.upn("ann", PARTNERS))
            assert claims["groups"] == [org.name("ProjectX")]  # the AD sAMAccountName
    finally:
        check.close()


def test_only_the_sync_application_may_change_a_synced_groups_members(org: SambaOrg) -> None:
    add_users(org, "ann", "bob")
    org.dc.add_group(org.name("ProjectX"), ou_dn=org.ou, members=[org.dn("ann")])
    org.cycle("initial")
    group = org.groups()[org.name("ProjectX")]
    bob = org.get_json(f"/v1.0/users/{org.upn('bob', PARTNERS)}")
    admin = org.tenant.add_app(["Group.ReadWrite.All", "GroupMember.ReadWrite.All"])
    ref = {"@odata.id": f"{org.server.base_url}/v1.0/directoryObjects/{bob['id']}"}
    with org.tenant.client(org.tenant.app_token(admin)) as http:
        answer: httpx.Response = http.post(f"/v1.0/groups/{group['id']}/members/$ref", json=ref)
    # A synced group is mastered on-premises: the AD group decides who is in it.
    assert answer.status_code == 400, answer.text
    assert org.members("ProjectX") == partner_upns(org, "ann")
