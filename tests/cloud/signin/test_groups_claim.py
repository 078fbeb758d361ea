"""The groups claim: a partner signs in through msal and her tokens carry her AD groups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from tests.cloud.signin.conftest import PARTNER_PASSWORD, FakeAD, synced_partner
from tests.support.cloud_server import CloudTenant
from tests.support.graph_objects import REF, error, group_body, new_group
from tests.support.signin import GRAPH_USER_READ, msal_app, public_client

from hybridsync.agent.runner import AgentRunner

# msal deprecates the password grant for public clients; it is the grant the partner uses here.
pytestmark = pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
SYNCED = {"onPremisesDomainName": "contoso.com", "onPremisesNetBiosName": "CONTOSO"}


@pytest.fixture
def sync(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.sync_app)) as client:
        yield client


@pytest.fixture
def app_admin(tenant: CloudTenant) -> Iterator[httpx.Client]:
    with tenant.client(tenant.app_token(tenant.add_app(["Application.ReadWrite.All"]))) as client:
        yield client


@pytest.fixture
def partner(
    tenant: CloudTenant, fake_ad: FakeAD, agent: AgentRunner, sync: httpx.Client
) -> dict[str, Any]:
    """A synced partner in a nested AD group, a cloud-only security group and a mailing list."""
    user = synced_partner(tenant, fake_ad)
    nested = new_group(
        sync, "Partners nested", str(user["id"]), onPremisesSamAccountName="px-nested", **SYNCED
    )
    project = new_group(
        sync, "Partners - Project X", nested, onPremisesSamAccountName="partners-x", **SYNCED
    )
    with tenant.client(tenant.app_token(tenant.admin_app)) as admin:
        portal = new_group(admin, "Portal users", str(user["id"]))
        news = new_group(admin, "News", str(user["id"]), securityEnabled=False, mailEnabled=True)
    return {"user": user, "nested": nested, "project": project, "portal": portal, "news": news}


def sign_in(tenant: CloudTenant, client_id: str, user: dict[str, Any]) -> dict[str, Any]:
    result = msal_app(tenant, client_id).acquire_token_by_username_password(
        str(user["userPrincipalName"]), PARTNER_PASSWORD, scopes=[GRAPH_USER_READ]
    )
    assert "id_token_claims" in result, result
    return result


def access_claims(result: dict[str, Any]) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(result["access_token"], options={"verify_signature": False})
    return claims


def configure(http: httpx.Client, client_id: str, **settings: Any) -> None:
    answer = http.patch(f"/v1.0/applications/{client_id}", json=settings)
    assert answer.status_code == 204, answer.text


def groups_format(token: str, *formats: str) -> dict[str, Any]:
    return {token: [{"name": "groups", "essential": False, "additionalProperties": list(formats)}]}


def test_no_groups_claim_unless_the_application_asks(
    tenant: CloudTenant, partner: dict[str, Any]
) -> None:
    result = sign_in(tenant, public_client(tenant), partner["user"])
    assert "groups" not in result["id_token_claims"]
    assert "groups" not in access_claims(result)


def test_security_groups_by_sam_account_name_in_the_id_token(
    tenant: CloudTenant, partner: dict[str, Any], app_admin: httpx.Client
) -> None:
    client = public_client(tenant)
    configure(
        app_admin,
        client,
        groupMembershipClaims="SecurityGroup",
        optionalClaims=groups_format("idToken", "sam_account_name"),
    )
    result = sign_in(tenant, client, partner["user"])
    # Nested membership counts; the mailing list is not a security group; cloud groups by id.
    assert sorted(result["id_token_claims"]["groups"]) == sorted(
        ["px-nested", "partners-x", partner["portal"]]
    )
    # The access token has no optional claim configured: object ids.
    assert sorted(access_claims(result)["groups"]) == sorted(
        [partner["nested"], partner["project"], partner["portal"]]
    )


def test_all_groups_with_domain_qualified_names(
    tenant: CloudTenant, partner: dict[str, Any], app_admin: httpx.Client
) -> None:
    client = public_client(tenant)
    optional = groups_format("idToken", "netbios_domain_and_sam_account_name") | groups_format(
        "accessToken", "dns_domain_and_sam_account_name", "cloud_displayname"
    )
    configure(app_admin, client, groupMembershipClaims="All", optionalClaims=optional)
    result = sign_in(tenant, client, partner["user"])
    assert sorted(result["id_token_claims"]["groups"]) == sorted(
        ["CONTOSO\\px-nested", "CONTOSO\\partners-x", partner["portal"], partner["news"]]
    )
    assert sorted(access_claims(result)["groups"]) == sorted(
        ["contoso.com\\px-nested", "contoso.com\\partners-x", "Portal users", "News"]
    )
    shown = app_admin.get(f"/v1.0/applications/{client}").json()
    assert shown["groupMembershipClaims"] == "All"
    assert shown["optionalClaims"] == optional


def test_over_200_groups_the_token_points_at_graph(
    tenant: CloudTenant, partner: dict[str, Any], app_admin: httpx.Client
) -> None:
    service, user_id = tenant.server.service, str(partner["user"]["id"])
    for n in range(200 - 3):  # with the three security groups of the fixture: 200 in all
        group = service.groups.create(tenant.id, group_body(f"Many {n}"))
        service.groups.add_member(tenant.id, group["id"], user_id)
    client = public_client(tenant)
    configure(app_admin, client, groupMembershipClaims="SecurityGroup")
    assert len(sign_in(tenant, client, partner["user"])["id_token_claims"]["groups"]) == 200

    one_more = service.groups.create(tenant.id, group_body("One more"))
    service.groups.add_member(tenant.id, one_more["id"], user_id)
    result = sign_in(tenant, client, partner["user"])
    for claims in (result["id_token_claims"], access_claims(result)):
        assert "groups" not in claims
        assert claims["_claim_names"] == {"groups": "src1"}
        endpoint = claims["_claim_sources"]["src1"]["endpoint"]
        assert endpoint == f"{tenant.server.base_url}/v1.0/users/{user_id}/getMemberObjects"
    # The pointer works with the user's own access token, as an application follows it.
    with tenant.client(result["access_token"]) as http:
        answer = http.post(endpoint, json={"securityEnabledOnly": True})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["value"]) == 201


def test_application_settings_are_checked_and_guarded(
    tenant: CloudTenant, app_admin: httpx.Client
) -> None:
    client = public_client(tenant)
    url = f"/v1.0/applications/{client}"
    assert error(app_admin.patch(url, json={"groupMembershipClaims": "Everything"}))[0] == 400
    bad_format = groups_format("idToken", "sam_account_name; DROP TABLE")
    assert error(app_admin.patch(url, json={"optionalClaims": bad_format}))[0] == 400
    assert error(app_admin.patch(url, json={"displayName": "renamed"}))[0] == 400
    assert error(app_admin.patch(url, json={"optionalClaims": {"idToken": "groups"}}))[0] == 400
    missing = "/v1.0/applications/00000000-0000-0000-0000-00000000000b"
    assert error(app_admin.patch(missing, json={"groupMembershipClaims": "All"}))[0] == 404
    with tenant.client(tenant.app_token(tenant.sync_app)) as sync:  # no Application.* role
        answer = sync.patch(url, json={"groupMembershipClaims": "All"})
        assert error(answer)[:2] == (403, "Authorization_RequestDenied")
    other = tenant.server.new_tenant()
    with other.client(other.app_token(other.add_app(["Application.ReadWrite.All"]))) as foreign:
        # An application of another tenant cannot see or change this one's registrations.
        assert error(foreign.patch(url, json={"groupMembershipClaims": "All"}))[0] == 404
    assert app_admin.get(url).json()["groupMembershipClaims"] is None


def test_a_partner_group_reaches_the_token_through_membership_changes(
    tenant: CloudTenant, partner: dict[str, Any], app_admin: httpx.Client, sync: httpx.Client
) -> None:
    client = public_client(tenant)
    configure(app_admin, client, groupMembershipClaims="SecurityGroup")
    user_id = str(partner["user"]["id"])
    sync.delete(f"/v1.0/groups/{partner['nested']}/members/{user_id}/$ref")
    groups = sign_in(tenant, client, partner["user"])["id_token_claims"]["groups"]
    assert partner["project"] not in groups
    sync.post(
        f"/v1.0/groups/{partner['project']}/members/$ref", json={"@odata.id": REF.format(user_id)}
    )
    groups = sign_in(tenant, client, partner["user"])["id_token_claims"]["groups"]
    assert partner["project"] in groups


def test_application_groups_are_the_assigned_ones_the_user_belongs_to(
    tenant: CloudTenant, partner: dict[str, Any]
) -> None:
    client = public_client(tenant)
    settings = {"groupMembershipClaims": "ApplicationGroup", "assignedGroups": [partner["project"]]}
    tenant.server.service.app_claims.update(tenant.id, client, settings)  # as the CLI does
    result = sign_in(tenant, client, partner["user"])
    # Assigned and held through the nested group; her other groups are not the app's.
    assert result["id_token_claims"]["groups"] == [partner["project"]]
