"""A partner synced from the Samba AD DC, invited to B2B and redeemed in the served cloud
directory: the engine keeps the user (hard match, updates), and the ``convertedUsers``
setting decides whether it may still change her ``mail``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ldap
import pytest
from tests.support.cloud_server import serve_cloud
from tests.support.samba import SambaDC
from tests.support.samba_org import SambaOrg, samba_org

from hybridsync.cloud import b2b
from hybridsync.cloud.signin.redemption import redeem_with_email

pytestmark = pytest.mark.samba
EMAIL = "kim@fabrikam.example"


@pytest.fixture(scope="module")
def org(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaOrg]:
    root = tmp_path_factory.mktemp("b2b-samba")
    with serve_cloud(root / "cloud") as server, samba_org(samba_dc, server, root, "B2B") as org:
        samba_dc.add_user(
            org.name("kim"), ou_dn=org.ou, upn=org.upn("kim", "partners.contoso.com"),
            attributes={"mail": EMAIL, "displayName": "Kim Partner"},
        )  # fmt: skip
        org.cycle("initial")
        yield org


def _user(org: SambaOrg) -> dict[str, Any]:
    upn = org.upn("kim", "partners.contoso.com")
    select = "id,userPrincipalName,displayName,mail,userType,externalUserState,identities"
    found: dict[str, Any] = org.get_json(f"/v1.0/users/{upn}?$select={select}")
    return found


def _replace(org: SambaOrg, **values: str) -> None:
    changes = [(ldap.MOD_REPLACE, name, [value.encode()]) for name, value in values.items()]
    org.dc.admin.modify_s(org.dn("kim"), changes)


def _set_owner(org: SambaOrg, owner: str) -> None:
    with org.tenant.client(org.tenant.app_token(org.tenant.admin_app)) as http:
        answer = http.patch("/v1.0/policies/signInPolicy", json={"convertedUsers": owner})
    assert answer.status_code == 204, answer.text


def _errors(report: Any) -> list[tuple[str, str]]:
    return [(e.dn, e.message) for run in report.runs for e in run.errors]


def test_the_engine_keeps_a_converted_partner_and_the_setting_decides_mail(
    org: SambaOrg,
) -> None:
    before = _user(org)
    service = org.server.service
    request = b2b.InvitationRequest(email=EMAIL, redirect_url="https://apps.example/",
                                    existing_user_id=before["id"])  # fmt: skip
    invitation = b2b.invite_existing(service, org.tenant.id, org.server.base_url, request)
    rd = invitation["inviteRedeemUrl"].partition("rd=")[2]
    opened = b2b.open_invitation(service, rd)
    assert opened is not None
    redeem_with_email(service, opened)

    # Hard match and updates go on: the same object, the new name, still redeemed.
    _replace(org, displayName="Kim P. Partner")
    org.cycle("delta")
    after = _user(org)
    assert after["id"] == before["id"]
    assert after["displayName"] == "Kim P. Partner"
    assert (after["userType"], after["externalUserState"]) == (before["userType"], "Accepted")
    assert {"signInType": "emailAddress", "issuer": "mail", "issuerAssignedId": EMAIL} in after[
        "identities"
    ]

    # convertedUsers = cloud: the engine's change of mail is an object error naming mail.
    _set_owner(org, "cloud")
    _replace(org, mail="kim@elsewhere.example")
    report = org.built.engine.cycle("delta")
    errors = _errors(report)
    assert len(errors) == 1  # the cloud side of her object, named by its anchor
    assert "convertedUsers = cloud" in errors[0][1]
    assert _user(org)["mail"] == EMAIL

    # convertedUsers = sync: the next cycle delivers it, and one more changes nothing.
    _set_owner(org, "sync")
    assert _errors(org.built.engine.cycle("delta")) == []
    assert _user(org)["mail"] == "kim@elsewhere.example"
    quiet = org.cycle("delta")
    exports = [r.counts for r in quiet.runs if r.profile.value == "export"]
    assert sum(c.get(k, 0) for c in exports for k in ("add", "update", "delete")) == 0
