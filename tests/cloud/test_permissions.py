"""The permission model against the served HTTPS directory: consent at the token endpoint,
client authentication on every grant, directory roles and the sensitive-action matrix.

The first tests replay the attack that took over a tenant: a member, signing in with their
own password through any application of the tenant, asked for Directory.ReadWrite.All and
Policy.ReadWrite.Authorization, and used them to reset another user's password."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import jwt
import msal
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from tests.support.cloud_server import GRAPH_SCOPE, CloudTenant
from tests.support.sessions import closed_after_test
from tests.support.signin import msal_app

from hybridsync.cloud.api.oauth import ASSERTION_TYPE
from hybridsync.cloud.roles import (
    GLOBAL_ADMINISTRATOR,
    GUEST_INVITER,
    HELPDESK_ADMINISTRATOR,
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
    PRIVILEGED_ROLE_ADMINISTRATOR,
    ROLES,
    USER_ADMINISTRATOR,
)

PASSWORD = "Str0ng!Passw0rd"  # CloudTenant.user_body's
NEW_PASSWORD = "N3w!Passw0rd-reset"
GRAPH = "https://graph.microsoft.com"
ADMIN_SCOPES = (
    "User.Read", "Directory.ReadWrite.All", "Policy.ReadWrite.Authorization",
    "RoleManagement.ReadWrite.Directory", "User.Invite.All",
)  # fmt: skip


def create_user(tenant: CloudTenant, alias: str, **extra: Any) -> dict[str, Any]:
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        answer = http.post("/v1.0/users", json=tenant.user_body(alias, **extra))
    assert answer.status_code == 201, answer.text
    user: dict[str, Any] = answer.json()
    return user


def give_role(tenant: CloudTenant, user: dict[str, Any], role: str) -> None:
    tenant.server.service.role_assignments.assign(tenant.id, user["id"], role)


def sign_in(
    tenant: CloudTenant, client_id: str, user: dict[str, Any], scopes: Sequence[str], **form: str
) -> httpx.Response:
    """The password grant, exactly as the attacker sent it."""
    with tenant.client() as http:
        return http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            data={
                "grant_type": "password", "client_id": client_id,
                "username": user["userPrincipalName"], "password": form.pop("password", PASSWORD),
                "scope": " ".join(_scope(s) for s in scopes), **form,
            },
        )  # fmt: skip


def _scope(name: str) -> str:
    return f"{GRAPH}/{name}" if "." in name and not name.startswith("https://") else name


def token_of(
    tenant: CloudTenant, client_id: str, user: dict[str, Any], scopes: Sequence[str]
) -> str:
    answer = sign_in(tenant, client_id, user, scopes)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def scp(token: str) -> set[str]:
    return set(jwt.decode(token, options={"verify_signature": False})["scp"].split())


@pytest.fixture
def people(tenant: CloudTenant) -> dict[str, dict[str, Any]]:
    return {alias: create_user(tenant, alias) for alias in ("alice", "victim", "admin")}


@pytest.fixture
def reader_client(tenant: CloudTenant) -> str:
    """A sign-in client consented to User.Read only (what a typical app asks for)."""
    return tenant.add_public_client(("User.Read",)).application.client_id


@pytest.fixture
def broad_client(tenant: CloudTenant) -> str:
    """A public client an administrator consented to broad delegated permissions."""
    return tenant.add_public_client(ADMIN_SCOPES).application.client_id


# -- the token endpoint: consent ----------------------------------------------------------


def test_a_member_cannot_obtain_scopes_nobody_consented(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], reader_client: str
) -> None:
    answer = sign_in(
        tenant, reader_client, people["alice"],
        ["Directory.ReadWrite.All", "Policy.ReadWrite.Authorization"],
    )  # fmt: skip
    assert answer.status_code == 400
    body = answer.json()
    assert (body["error"], body["error_codes"], body["suberror"]) == (
        "invalid_grant", [65001], "consent_required",
    )  # fmt: skip
    assert "Directory.ReadWrite.All" in body["error_description"]


def test_a_confidential_client_is_refused_without_its_secret(
    tenant: CloudTenant, people: dict[str, dict[str, Any]]
) -> None:
    """Any application of the tenant was enough: its client_id is no secret."""
    for app in (tenant.sync_app, tenant.admin_app):
        answer = sign_in(tenant, app.application.client_id, people["alice"], ["User.Read"])
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
        assert answer.json()["error_codes"] == [7000218]


def test_a_public_client_may_not_present_a_secret(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], reader_client: str
) -> None:
    answer = sign_in(tenant, reader_client, people["alice"], ["User.Read"], client_secret="made-up")
    assert answer.status_code == 401
    assert answer.json()["error_codes"] == [700025]


def test_scp_is_what_was_asked_and_default_is_everything_consented(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], broad_client: str
) -> None:
    asked = token_of(tenant, broad_client, people["alice"], ["user.read"])  # any case
    assert scp(asked) == {"User.Read"}
    everything = token_of(tenant, broad_client, people["alice"], [f"{GRAPH}/.default"])
    assert scp(everything) == set(ADMIN_SCOPES)
    unknown = sign_in(tenant, broad_client, people["alice"], ["Mail.Send.Everywhere"])
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_scope"
    elsewhere = sign_in(tenant, broad_client, people["alice"], ["https://evil.example/User.Read"])
    assert elsewhere.json()["error"] == "invalid_scope"


def test_a_refresh_token_never_widens_its_grant(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], broad_client: str
) -> None:
    def redeem(scope: str) -> httpx.Response:
        first = sign_in(tenant, broad_client, people["alice"], ["User.Read", "offline_access"])
        with tenant.client() as http:
            return http.post(
                f"/{tenant.id}/oauth2/v2.0/token",
                data={"grant_type": "refresh_token", "client_id": broad_client,
                      "refresh_token": first.json()["refresh_token"], "scope": scope},
            )  # fmt: skip

    wider = redeem(f"{GRAPH}/Directory.ReadWrite.All offline_access")
    default = redeem(f"{GRAPH}/.default offline_access")
    same = redeem(f"{GRAPH}/User.Read offline_access")
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"
    assert "Directory.ReadWrite.All" in wider.json()["error_description"]
    assert default.status_code == 400  # .default is all consented: wider than the grant
    assert same.status_code == 200, same.text
    assert scp(same.json()["access_token"]) == {"User.Read"}


# -- delegated authorization: the token's scopes AND what the user may do -----------------


def test_a_member_with_admin_scopes_still_cannot_take_over(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], broad_client: str
) -> None:
    token = token_of(tenant, broad_client, people["alice"], ADMIN_SCOPES)
    assert {"Directory.ReadWrite.All", "Policy.ReadWrite.Authorization"} <= scp(token)
    victim = people["victim"]
    with tenant.client(token) as alice:
        reset = alice.patch(
            f"/v1.0/users/{victim['id']}",
            json={"passwordProfile": {"password": NEW_PASSWORD,
                                      "forceChangePasswordNextSignIn": False}},
        )  # fmt: skip
        policy = alice.patch(
            "/v1.0/policies/authorizationPolicy", json={"allowInvitesFrom": "none"}
        )
        created = alice.post("/v1.0/users", json=tenant.user_body("intruder"))
        assign = alice.post(
            "/v1.0/roleManagement/directory/roleAssignments",
            json={"principalId": people["alice"]["id"], "roleDefinitionId": GLOBAL_ADMINISTRATOR,
                  "directoryScopeId": "/"},
        )  # fmt: skip
        rename = alice.patch(f"/v1.0/users/{victim['id']}", json={"jobTitle": "Gone"})
        mine = alice.patch(f"/v1.0/users/{people['alice']['id']}", json={"officeLocation": "B2"})
        readable = alice.get("/v1.0/users")
    for refused in (reset, policy, created, assign, rename):
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "Authorization_RequestDenied"
    assert mine.status_code == 204  # her own non-sensitive properties are hers to edit
    assert readable.status_code == 200  # members read the directory
    assert sign_in(tenant, broad_client, victim, ["User.Read"]).status_code == 200
    assert sign_in(
        tenant, broad_client, victim, ["User.Read"], password=NEW_PASSWORD
    ).status_code == 400  # fmt: skip


def test_user_read_alone_reads_only_oneself(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], reader_client: str
) -> None:
    token = token_of(tenant, reader_client, people["alice"], ["User.Read"])
    with tenant.client(token) as alice:
        assert alice.get("/v1.0/me").json()["id"] == people["alice"]["id"]
        assert alice.get("/v1.0/users").status_code == 403
        assert alice.get(f"/v1.0/users/{people['victim']['id']}").status_code == 403


def _reset(token: str, tenant: CloudTenant, target: dict[str, Any]) -> httpx.Response:
    with tenant.client(token) as http:
        return http.patch(
            f"/v1.0/users/{target['id']}",
            json={"passwordProfile": {"password": NEW_PASSWORD,
                                      "forceChangePasswordNextSignIn": False}},
        )  # fmt: skip


def test_user_administrator_resets_a_member_but_not_a_global_administrator(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], broad_client: str
) -> None:
    operator, member, boss = people["admin"], people["victim"], people["alice"]
    give_role(tenant, operator, USER_ADMINISTRATOR)
    give_role(tenant, boss, GLOBAL_ADMINISTRATOR)
    token = token_of(tenant, broad_client, operator, ["Directory.ReadWrite.All"])

    assert _reset(token, tenant, member).status_code == 204
    refused = _reset(token, tenant, boss)
    assert refused.status_code == 403
    with tenant.client(token) as http:
        assert (
            http.patch(f"/v1.0/users/{boss['id']}", json={"accountEnabled": False}).status_code
            == 403
        )
        assert http.delete(f"/v1.0/users/{boss['id']}").status_code == 403
        # Not sensitive: a User Administrator may still edit a Global Administrator's title.
        assert http.patch(f"/v1.0/users/{boss['id']}", json={"jobTitle": "CEO"}).status_code == 204
    assert (
        sign_in(tenant, broad_client, member, ["User.Read"], password=NEW_PASSWORD).status_code
        == 200
    )
    assert sign_in(tenant, broad_client, boss, ["User.Read"]).status_code == 200


@pytest.mark.parametrize(
    ("actor_role", "target_role", "allowed"),
    [
        (HELPDESK_ADMINISTRATOR, None, True),
        (HELPDESK_ADMINISTRATOR, HELPDESK_ADMINISTRATOR, True),
        (HELPDESK_ADMINISTRATOR, USER_ADMINISTRATOR, False),
        (USER_ADMINISTRATOR, HELPDESK_ADMINISTRATOR, True),
        (USER_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR, False),
        (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR, True),
        (GUEST_INVITER, None, False),
    ],
)
def test_who_can_reset_passwords(
    tenant: CloudTenant,
    people: dict[str, dict[str, Any]],
    broad_client: str,
    actor_role: str,
    target_role: str | None,
    allowed: bool,
) -> None:
    give_role(tenant, people["admin"], actor_role)
    if target_role:
        give_role(tenant, people["victim"], target_role)
    token = token_of(tenant, broad_client, people["admin"], ["Directory.ReadWrite.All"])
    assert _reset(token, tenant, people["victim"]).status_code == (204 if allowed else 403)


def test_only_privileged_role_and_global_administrators_assign_roles(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], broad_client: str
) -> None:
    body = {"principalId": people["victim"]["id"], "roleDefinitionId": HELPDESK_ADMINISTRATOR,
            "directoryScopeId": "/"}  # fmt: skip
    give_role(tenant, people["admin"], USER_ADMINISTRATOR)
    token = token_of(tenant, broad_client, people["admin"], ["RoleManagement.ReadWrite.Directory"])
    with tenant.client(token) as http:
        assert (
            http.post("/v1.0/roleManagement/directory/roleAssignments", json=body).status_code
            == 403
        )
    give_role(tenant, people["alice"], PRIVILEGED_ROLE_ADMINISTRATOR)
    scopes = ["RoleManagement.ReadWrite.Directory", "Directory.ReadWrite.All"]
    token = token_of(tenant, broad_client, people["alice"], scopes)
    with tenant.client(token) as http:
        created = http.post("/v1.0/roleManagement/directory/roleAssignments", json=body)
        assert created.status_code == 201, created.text
        assignment = created.json()
        again = http.post("/v1.0/roleManagement/directory/roleAssignments", json=body)
        listed = http.get(
            "/v1.0/roleManagement/directory/roleAssignments",
            params={"$filter": f"principalId eq '{people['victim']['id']}'"},
        ).json()["value"]
        members = http.get(
            f"/v1.0/directoryRoles/roleTemplateId={HELPDESK_ADMINISTRATOR}/members"
        ).json()["value"]
        roles = http.get("/v1.0/directoryRoles").json()["value"]
        member_of = http.get(f"/v1.0/users/{people['victim']['id']}/memberOf").json()["value"]
        removed = http.delete(f"/v1.0/roleManagement/directory/roleAssignments/{assignment['id']}")
        gone = http.delete(f"/v1.0/roleManagement/directory/roleAssignments/{assignment['id']}")
    assert assignment["principalId"] == people["victim"]["id"]
    assert assignment["directoryScopeId"] == "/"
    assert again.status_code == 409
    assert [a["roleDefinitionId"] for a in listed] == [HELPDESK_ADMINISTRATOR]
    assert [m["id"] for m in members] == [people["victim"]["id"]]
    assert {r["roleTemplateId"] for r in roles} == {
        HELPDESK_ADMINISTRATOR, USER_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR,
    }  # fmt: skip
    assert [m["roleTemplateId"] for m in member_of if "roleTemplateId" in m] == [
        HELPDESK_ADMINISTRATOR
    ]
    assert (removed.status_code, gone.status_code) == (204, 404)
    assert (
        tenant.server.service.role_assignments.roles_of(tenant.id, people["victim"]["id"])
        == frozenset()
    )


def test_role_definitions_are_microsofts(
    tenant: CloudTenant, people: dict[str, dict[str, Any]]
) -> None:
    with tenant.client(tenant.mint_user_token(people["alice"]["id"])) as http:
        answer = http.get("/v1.0/roleManagement/directory/roleDefinitions")
        one = http.get(f"/v1.0/roleManagement/directory/roleDefinitions/{GLOBAL_ADMINISTRATOR}")
    assert answer.status_code == 200
    by_name = {r["displayName"]: r["templateId"] for r in answer.json()["value"]}
    assert by_name["Global Administrator"] == "62e90394-69f5-4237-9190-012177145e10"
    assert by_name["Privileged Role Administrator"] == "e8611ab8-c189-46e8-94e1-60213ab1f814"
    assert by_name["Helpdesk Administrator"] == "729827e3-9c14-49f7-bb1b-9608f156bbb8"
    assert len(by_name) == len(ROLES) == 10
    assert one.json()["isPrivileged"] is True


def test_the_token_names_the_users_roles(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], reader_client: str
) -> None:
    give_role(tenant, people["admin"], HELPDESK_ADMINISTRATOR)
    token = token_of(tenant, reader_client, people["admin"], ["User.Read"])
    assert jwt.decode(token, options={"verify_signature": False})["wids"] == [
        HELPDESK_ADMINISTRATOR
    ]


def test_a_removed_role_stops_working_at_once(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], broad_client: str
) -> None:
    give_role(tenant, people["admin"], USER_ADMINISTRATOR)
    token = token_of(tenant, broad_client, people["admin"], ["Directory.ReadWrite.All"])
    assert _reset(token, tenant, people["victim"]).status_code == 204
    store = tenant.server.service.role_assignments
    (held,) = store.list(tenant.id, principal_id=people["admin"]["id"])
    store.remove(tenant.id, held.id)
    assert _reset(token, tenant, people["victim"]).status_code == 403  # same token


# -- the authorization policy -------------------------------------------------------------


def _policy(tenant: CloudTenant, **changes: Any) -> None:
    with tenant.client(tenant.app_token(tenant.admin_app)) as admin:
        answer = admin.patch("/v1.0/policies/authorizationPolicy", json=changes)
    assert answer.status_code == 204, answer.text


def test_allowed_to_read_other_users_is_enforced(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], broad_client: str
) -> None:
    _policy(tenant, defaultUserRolePermissions={"allowedToReadOtherUsers": False})
    give_role(tenant, people["admin"], USER_ADMINISTRATOR)
    member = token_of(
        tenant, broad_client, people["alice"], ["User.Read", "Directory.ReadWrite.All"]
    )
    admin = token_of(tenant, broad_client, people["admin"], ["Directory.ReadWrite.All"])
    with tenant.client(member) as http:
        assert http.get("/v1.0/users").status_code == 403
        assert http.get(f"/v1.0/users/{people['victim']['id']}").status_code == 403
        assert http.get("/v1.0/me").status_code == 200
    with tenant.client(admin) as http:
        assert len(http.get("/v1.0/users").json()["value"]) == 3


@pytest.mark.parametrize(
    ("setting", "member", "inviter", "guest"),
    [
        ("none", 403, 403, 403),
        ("adminsAndGuestInviters", 403, 201, 403),
        ("adminsGuestInvitersAndAllMembers", 201, 201, 403),
        ("everyone", 201, 201, 201),
    ],
)
def test_allow_invites_from_decides_who_invites(
    tenant: CloudTenant,
    people: dict[str, dict[str, Any]],
    broad_client: str,
    setting: str,
    member: int,
    inviter: int,
    guest: int,
) -> None:
    _policy(tenant, allowInvitesFrom=setting)
    give_role(tenant, people["admin"], GUEST_INVITER)
    partner = create_user(tenant, "partner", userType="Guest")
    expected = {"alice": member, "admin": inviter, "partner": guest}
    for alias, status in expected.items():
        user = partner if alias == "partner" else people[alias]
        token = token_of(tenant, broad_client, user, ["User.Invite.All"])
        with tenant.client(token) as http:
            answer = http.post(
                "/v1.0/invitations",
                json={"invitedUserEmailAddress": f"{alias}-guest@fabrikam.example",
                      "inviteRedirectUrl": "https://myapps.example"},
            )  # fmt: skip
        assert answer.status_code == status, (alias, answer.text)


# -- Microsoft's clients -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_msal_public_client_signs_in_without_a_secret(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], reader_client: str
) -> None:
    app = msal_app(tenant, reader_client)
    result = app.acquire_token_by_username_password(
        people["alice"]["userPrincipalName"], PASSWORD, scopes=[f"{GRAPH}/User.Read"]
    )
    assert "access_token" in result, result
    assert scp(result["access_token"]) == {"User.Read"}
    refused = app.acquire_token_by_username_password(
        people["alice"]["userPrincipalName"], PASSWORD, scopes=[f"{GRAPH}/Directory.ReadWrite.All"]
    )
    assert refused.get("suberror") == "consent_required", refused


def _confidential(
    tenant: CloudTenant, credential: str | None
) -> msal.ConfidentialClientApplication:
    app = msal.ConfidentialClientApplication(
        tenant.sync_app.application.client_id, client_credential=credential,
        authority=tenant.authority, instance_discovery=False, verify=str(tenant.server.ca_path),
    )  # fmt: skip
    closed_after_test(app.http_client)
    return app


def test_msal_confidential_client_still_gets_app_tokens(
    tenant: CloudTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tenant.server.ca_path))
    result = _confidential(tenant, tenant.sync_app.client_secret).acquire_token_for_client(
        scopes=[GRAPH_SCOPE]
    )
    assert "access_token" in result, result
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert sorted(claims["roles"]) == sorted(tenant.sync_app.application.roles)
    wrong = _confidential(tenant, "not-the-secret").acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert wrong.get("error") == "invalid_client"


# -- client assertions (private_key_jwt) ---------------------------------------------------


@pytest.fixture
def certificate_app(tenant: CloudTenant) -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "assertion client")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return tenant.add_app(["User.Read.All"], certificate_pem=pem).application.client_id, key


def _assertion(tenant: CloudTenant, client_id: str, key: Any, lifetime: dt.timedelta) -> str:
    now = int(time.time())
    claims = {
        "aud": f"{tenant.authority}/oauth2/v2.0/token", "iss": client_id, "sub": client_id,
        "jti": str(uuid.uuid4()), "iat": now, "nbf": now,
        "exp": now + int(lifetime.total_seconds()),
    }  # fmt: skip
    return jwt.encode(claims, key, algorithm="RS256")


def _client_credentials(tenant: CloudTenant, client_id: str, assertion: str) -> httpx.Response:
    with tenant.client() as http:
        return http.post(
            f"/{tenant.id}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": client_id,
                  "scope": GRAPH_SCOPE, "client_assertion": assertion,
                  "client_assertion_type": ASSERTION_TYPE},
        )  # fmt: skip


def test_a_replayed_client_assertion_is_refused(
    tenant: CloudTenant, certificate_app: tuple[str, Any]
) -> None:
    client_id, key = certificate_app
    assertion = _assertion(tenant, client_id, key, dt.timedelta(minutes=10))
    first = _client_credentials(tenant, client_id, assertion)
    replayed = _client_credentials(tenant, client_id, assertion)
    fresh = _client_credentials(
        tenant, client_id, _assertion(tenant, client_id, key, dt.timedelta(minutes=10))
    )
    assert first.status_code == 200, first.text
    assert replayed.status_code == 401
    assert "jti" in replayed.json()["error_description"]
    assert fresh.status_code == 200


def test_a_client_assertion_valid_for_more_than_an_hour_is_refused(
    tenant: CloudTenant, certificate_app: tuple[str, Any]
) -> None:
    client_id, key = certificate_app
    long_lived = _assertion(tenant, client_id, key, dt.timedelta(hours=1, minutes=1))
    answer = _client_credentials(tenant, client_id, long_lived)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert "more than an hour" in answer.json()["error_description"]


def test_the_sign_in_page_accepts_only_registered_redirect_uris(
    tenant: CloudTenant, reader_client: str
) -> None:
    with tenant.client() as http:

        def page(uri: str) -> httpx.Response:
            return http.get(
                f"/{tenant.id}/oauth2/v2.0/authorize",
                params={"client_id": reader_client, "redirect_uri": uri, "response_type": "code"},
            )

        assert page("http://localhost:53123/").status_code == 200  # loopback: any port
        for uri in ("https://evil.example/", "http://localhost:53123/elsewhere", "http://[::1"):
            refused = page(uri)
            assert refused.status_code == 400, uri
            assert "AADSTS50011" in refused.text


def test_every_action_has_permissions_and_role_definition_actions() -> None:
    """A new action must be granted by some permission and shown in role definitions,
    or reading roleDefinitions fails for the roles that hold it."""
    from hybridsync.cloud.actions import Action
    from hybridsync.cloud.api.roles import _RESOURCE_ACTIONS
    from hybridsync.cloud.authz import GRANTING_PERMISSIONS

    assert set(GRANTING_PERMISSIONS) == set(Action)
    assert set(_RESOURCE_ACTIONS) == set(Action)


def test_a_deleted_global_administrator_is_still_out_of_a_user_administrators_reach(
    tenant: CloudTenant, people: dict[str, dict[str, Any]], broad_client: str
) -> None:
    """Restoring or purging a deleted user is a sensitive action while it holds a role."""
    give_role(tenant, people["admin"], GLOBAL_ADMINISTRATOR)
    give_role(tenant, people["alice"], USER_ADMINISTRATOR)
    with tenant.client(tenant.app_token(tenant.admin_app)) as app:
        assert app.delete(f"/v1.0/users/{people['admin']['id']}").status_code == 204
    token = token_of(tenant, broad_client, people["alice"], ADMIN_SCOPES)
    deleted = f"/v1.0/directory/deletedItems/{people['admin']['id']}"
    with tenant.client(token) as alice:
        assert alice.post(f"{deleted}/restore").status_code == 403
        assert alice.delete(deleted).status_code == 403
        # An ordinary deleted member is hers to restore.
        with tenant.client(tenant.app_token(tenant.admin_app)) as app:
            assert app.delete(f"/v1.0/users/{people['victim']['id']}").status_code == 204
        restored = alice.post(f"/v1.0/directory/deletedItems/{people['victim']['id']}/restore")
        assert restored.status_code == 200, restored.text
