"""Cloud guests to AD, end to end: a guest invited in the served cloud directory gets a
shadow account in the session's Samba DC after a ``hybridsync run`` (a process); the
account's DN, sAMAccountName, SID, UPN and domain come back onto the cloud user; the
account is never synced up again; soft delete, restore and hard delete disable, enable
and delete it; a second cycle changes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import ldap
import pytest
from structlog.testing import capture_logs
from tests.support.cloud_server import CloudServer, graph_connector_toml, serve_cloud
from tests.support.samba import SambaDC, ad_connector_toml

from hybridsync.connectors.ad.export import generated_password
from hybridsync.wiring import build_from_file

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
SHADOW_ATTRIBUTES = [
    "sAMAccountName", "userPrincipalName", "displayName", "givenName", "sn", "mail",
    "adminDescription", "msDS-ExternalDirectoryObjectId", "userAccountControl", "objectSid",
]  # fmt: skip
ON_PREMISES = (
    "onPremisesDistinguishedName,onPremisesSamAccountName,onPremisesSecurityIdentifier,"
    "onPremisesUserPrincipalName,onPremisesDomainName,onPremisesSyncEnabled"
)
SMART_CARD = 0x40000
DISABLED = 0x2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with serve_cloud(tmp_path_factory.mktemp("guests-cloud")) as served:
        yield served


class GuestsDeployment:
    """A cloud tenant, the guests' OU in AD, and the configuration between them."""

    def __init__(
        self, root: Path, dc: SambaDC, server: CloudServer, ou: str, extra: str = "",
        guests: str = "",
    ) -> None:  # fmt: skip
        self.root, self.dc, self.ou = root, dc, ou
        self.tenant = server.new_tenant("contoso.com")
        self.config = root / "hybridsync.toml"
        self.config.write_text(
            f'store = "state.db"\n{extra}\n[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n\n'
            f'[guests_to_ad]\nou = "{ou}"\n{guests}\n'
            f'{ad_connector_toml(dc, PASSWORD_ENV, [ou])}export_ou = "{ou}"\n'
            f"{graph_connector_toml(server, self.tenant, root)}",
            "utf-8",
        )
        with self.admin() as http:  # a member: the guests are never all the cloud holds
            answer = http.post("/v1.0/users", json=self.tenant.user_body("member"))
            assert answer.status_code == 201, answer.text

    def admin(self) -> httpx.Client:
        return self.tenant.client(self.tenant.app_token(self.tenant.admin_app))

    def invite(self, email: str, name: str) -> str:
        body = {"invitedUserEmailAddress": email, "invitedUserDisplayName": name,
                "inviteRedirectUrl": "https://apps.example"}  # fmt: skip
        with self.admin() as http:
            answer = http.post("/v1.0/invitations", json=body)
            assert answer.status_code == 201, answer.text
            user_id = str(answer.json()["invitedUser"]["id"])
            first, _, last = name.partition(" ")
            patch = {"givenName": first, "surname": last, "mail": email}
            assert http.patch(f"/v1.0/users/{user_id}", json=patch).status_code == 204
        return user_id

    def cloud_user(self, user_id: str) -> dict[str, Any]:
        with self.admin() as http:
            select = f"id,userPrincipalName,{ON_PREMISES}"
            answer = http.get(f"/v1.0/users/{user_id}", params={"$select": select})
        answer.raise_for_status()
        return dict(answer.json())

    def cloud(self, method: str, path: str) -> None:
        with self.admin() as http:
            answer = http.request(method, path)
        assert answer.status_code in (200, 204), answer.text

    def shadows(self) -> dict[str, dict[str, Any]]:
        """The accounts in the guests' OU by their anchor (``User_<id>``)."""
        found = self.dc.search(self.ou, "(objectClass=user)", scope=ldap.SCOPE_SUBTREE,
                               attributes=SHADOW_ATTRIBUTES)  # fmt: skip
        accounts = {}
        for dn, attrs in found:
            values = {k: v[0] for k, v in attrs.items()}
            anchor = values.get("msDS-ExternalDirectoryObjectId", b"").decode()
            accounts[anchor] = {"dn": dn, **values}
        return accounts

    def run(self, cycle: str = "delta", *options: str, stopped: bool = False) -> dict[str, Any]:
        """``hybridsync run`` as a process; ``stopped``: a safety check stops it (exit 2)."""
        command = [str(Path(sys.executable).parent / "hybridsync"), "run", cycle, "--json",
                   *options]  # fmt: skip
        done = subprocess.run(
            [*command, "-c", str(self.config)],
            capture_output=True, text=True, cwd=self.root, check=False, timeout=300,
        )  # fmt: skip
        assert done.returncode in ((2,) if stopped else (0, 1)), done.stdout + done.stderr
        report: dict[str, Any] = json.loads(done.stdout)
        self.log = done.stderr
        return report


def errors(report: dict[str, Any]) -> list[str]:
    return [f"{e['dn']}: {e['message']}" for run in report["runs"] for e in run["errors"]]


def exported(report: dict[str, Any], connector: str) -> dict[str, int]:
    runs = [r for r in report["runs"] if r["profile"] == "export" and r["connector"] == connector]
    keys = ("add", "update", "delete", "rejected")
    return {k: sum(r["counts"].get(k, 0) for r in runs) for k in keys}


NOTHING = {"add": 0, "update": 0, "delete": 0, "rejected": 0}


@pytest.fixture
def guests(
    samba_dc: SambaDC, server: CloudServer, tmp_path: Path, ou: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:  # fmt: skip
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)

    def make(extra: str = "", options: str = "") -> GuestsDeployment:
        return GuestsDeployment(tmp_path, samba_dc, server, ou, extra, options)

    return make


def test_an_invited_guest_gets_a_shadow_account_written_back_and_never_synced_up(
    guests: Any, samba_dc: SambaDC
) -> None:
    deployment: GuestsDeployment = guests()
    guest = deployment.invite("jane.doe@fabrikam.example", "Jane Doe")
    report = deployment.run("initial")
    assert errors(report) == []
    assert exported(report, "ad")["add"] == 1
    shadows = deployment.shadows()
    assert list(shadows) == [f"User_{guest}"]
    shadow = shadows[f"User_{guest}"]
    upn = deployment.cloud_user(guest)["userPrincipalName"]
    assert shadow["userPrincipalName"].decode() == upn
    assert shadow["adminDescription"] == f"User_{guest}".encode()
    sam = shadow["sAMAccountName"].decode()
    assert sam == f"jane.doe_fa-{guest[:8]}"
    assert len(sam) <= 20
    assert shadow["displayName"] == b"Jane Doe"
    assert (shadow["givenName"], shadow["sn"]) == (b"Jane", b"Doe")
    assert shadow["mail"] == b"jane.doe@fabrikam.example"
    control = int(shadow["userAccountControl"])
    assert control & SMART_CARD
    assert not control & DISABLED
    assert shadow["dn"].endswith(f",{deployment.ou}")

    # The next cycle imports the account: its values reach the cloud user.
    report = deployment.run()
    assert errors(report) == []
    cloud = deployment.cloud_user(guest)
    assert cloud["onPremisesDistinguishedName"] == shadow["dn"]
    assert cloud["onPremisesSamAccountName"] == sam
    assert cloud["onPremisesUserPrincipalName"] == upn
    assert cloud["onPremisesDomainName"] == samba_dc.fqdn
    assert cloud["onPremisesSecurityIdentifier"].startswith("S-1-5-21-")
    # Written back, the guest is still a cloud user (not synced from AD).
    assert cloud["onPremisesSyncEnabled"] is not True

    # A cycle more: nothing to write anywhere, and no new cloud user (never synced up).
    with deployment.admin() as http:
        before = http.get("/v1.0/users", params={"$select": "id"}).json()["value"]
    report = deployment.run()
    assert errors(report) == []
    assert exported(report, "ad") == NOTHING
    assert exported(report, "cloud") == NOTHING
    with deployment.admin() as http:
        after = http.get("/v1.0/users", params={"$select": "id"}).json()["value"]
    assert after == before
    assert list(deployment.shadows()) == [f"User_{guest}"]

    # Disabled in the cloud: disabled in AD (smart card logon still required); enabled again.
    for enabled in (False, True):
        with deployment.admin() as http:
            answer = http.patch(f"/v1.0/users/{guest}", json={"accountEnabled": enabled})
            assert answer.status_code == 204, answer.text
        assert errors(deployment.run()) == []
        control = int(deployment.shadows()[f"User_{guest}"]["userAccountControl"])
        assert bool(control & DISABLED) is not enabled
        assert control & SMART_CARD


def test_soft_delete_disables_restore_enables_hard_delete_deletes(guests: Any) -> None:
    deployment: GuestsDeployment = guests()
    guest = deployment.invite("sam.lee@fabrikam.example", "Sam Lee")
    assert errors(deployment.run("initial")) == []
    anchor = f"User_{guest}"
    assert not int(deployment.shadows()[anchor]["userAccountControl"]) & DISABLED

    deployment.cloud("DELETE", f"/v1.0/users/{guest}")  # soft: to the recycle bin
    report = deployment.run()
    assert errors(report) == []
    shadow = deployment.shadows()[anchor]
    assert int(shadow["userAccountControl"]) & DISABLED
    assert shadow["sAMAccountName"].decode().startswith("sam.lee_fab")  # kept as it was

    deployment.cloud("POST", f"/v1.0/directory/deletedItems/{guest}/restore")
    assert errors(deployment.run()) == []
    assert not int(deployment.shadows()[anchor]["userAccountControl"]) & DISABLED

    # A full cycle agrees with the delta ones: nothing to change.
    report = deployment.run("initial")
    assert errors(report) == []
    assert exported(report, "ad") == NOTHING

    deployment.cloud("DELETE", f"/v1.0/users/{guest}")
    deployment.cloud("DELETE", f"/v1.0/directory/deletedItems/{guest}")  # for good
    report = deployment.run()
    assert errors(report) == []
    assert exported(report, "ad")["delete"] == 1
    assert deployment.shadows() == {}


def test_a_soft_deleted_guest_stays_disabled_through_a_full_import(guests: Any) -> None:
    deployment: GuestsDeployment = guests()
    guest = deployment.invite("ann.lo@fabrikam.example", "Ann Lo")
    deployment.run("initial")
    deployment.cloud("DELETE", f"/v1.0/users/{guest}")
    report = deployment.run("initial")  # a full import reads the recycle bin
    assert errors(report) == []
    assert exported(report, "ad")["delete"] == 0
    assert int(deployment.shadows()[f"User_{guest}"]["userAccountControl"]) & DISABLED


def test_a_duplicate_sam_account_name_made_by_hand_is_an_object_error(
    guests: Any, samba_dc: SambaDC
) -> None:
    deployment: GuestsDeployment = guests()
    taken = deployment.invite("kim.to@fabrikam.example", "Kim To")
    fine = deployment.invite("lou.ve@fabrikam.example", "Lou Ve")
    # Elsewhere in the domain (outside the synced OU): sAMAccountName is unique domain-wide.
    by_hand = samba_dc.add_user(f"kim.to_fabr-{taken[:8]}", cn=f"Made by hand {taken[:8]}")
    report = deployment.run("initial")
    (error,) = errors(report)
    assert f"Kim To {taken}" in error
    assert "sAMAccountName" in error
    assert exported(report, "ad")["add"] == 1  # the run went on
    assert set(deployment.shadows()) == {f"User_{fine}"}
    samba_dc.delete(by_hand)
    report = deployment.run()  # the name free again: the account is created
    assert errors(report) == []
    assert set(deployment.shadows()) == {f"User_{taken}", f"User_{fine}"}


def test_staging_mode_and_the_deletion_threshold_hold_for_shadow_accounts(
    guests: Any, tmp_path: Path
) -> None:
    deployment: GuestsDeployment = guests("staging_mode = true\n[safety]\ndeletion_threshold = 1")
    ids = [deployment.invite(f"g{n}@fabrikam.example", f"Guest {n}") for n in range(3)]
    report = deployment.run("initial")
    assert [r for r in report["runs"] if r["profile"] == "export"] == []
    assert deployment.shadows() == {}
    staged = deployment.config.read_text("utf-8")
    deployment.config.write_text(staged.replace("staging_mode = true\n", ""), "utf-8")
    assert exported(deployment.run(), "ad")["add"] == 3  # out of staging: exported

    for guest in ids[:2]:
        deployment.cloud("DELETE", f"/v1.0/users/{guest}")
        deployment.cloud("DELETE", f"/v1.0/directory/deletedItems/{guest}")
    report = deployment.run(stopped=True)
    statuses = [r["status"] for r in report["runs"] if r["connector"] == "ad"]
    assert "stopped-deletion-threshold-exceeded" in statuses
    assert len(deployment.shadows()) == 3  # nothing deleted
    assert exported(deployment.run("delta", "--allow-deletes"), "ad")["delete"] == 2
    assert list(deployment.shadows()) == [f"User_{ids[2]}"]


def test_the_random_password_is_set_once_and_never_stored_or_logged(
    guests: Any, samba_dc: SambaDC, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment: GuestsDeployment = guests(options="smart_card_required = false")
    deployment.invite("pat.ng@fabrikam.example", "Pat Ng")
    built = build_from_file(deployment.config)
    made: list[str] = []

    def recorded() -> str:
        made.append(generated_password())
        return made[-1]

    # The connector's own generator, observed: the password exists nowhere else.
    monkeypatch.setattr(built.connectors["ad"], "_password", recorded)
    try:
        with capture_logs() as logs:
            for cycle in ("initial", "delta", "delta"):
                report = built.engine.cycle(cycle)
                assert [e.message for run in report.runs for e in run.errors] == []
    finally:
        built.close()
    (password,) = made  # set once, on the add
    (shadow,) = deployment.shadows().values()
    assert not int(shadow["userAccountControl"]) & SMART_CARD
    connection = ldap.initialize(samba_dc.ldaps_url)
    connection.set_option(ldap.OPT_X_TLS_CACERTFILE, str(samba_dc.ca_file))
    connection.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    connection.simple_bind_s(shadow["userPrincipalName"].decode(), password)  # it was set
    connection.unbind_s()
    for stored in deployment.root.glob("state.db*"):
        content = stored.read_bytes()
        for form in (password.encode(), password.encode("utf-16-le")):
            assert form not in content, stored
    assert password not in repr(logs)


def test_with_a_scoping_group_only_members_get_an_account_and_leaving_disables_it(
    guests: Any,
) -> None:
    deployment: GuestsDeployment = guests()
    with deployment.admin() as http:
        body = {"displayName": "On-premises apps", "mailEnabled": False,
                "mailNickname": "onpremapps", "securityEnabled": True}  # fmt: skip
        group = str(http.post("/v1.0/groups", json=body).json()["id"])
    config = deployment.config.read_text("utf-8")
    deployment.config.write_text(
        config.replace("[guests_to_ad]\n", f'[guests_to_ad]\ngroup = "{group}"\n'), "utf-8"
    )
    inside = deployment.invite("in.side@fabrikam.example", "In Side")
    outside = deployment.invite("out.side@fabrikam.example", "Out Side")

    def member(user: str, *, add: bool) -> None:
        with deployment.admin() as http:
            if add:
                ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user}"}
                answer = http.post(f"/v1.0/groups/{group}/members/$ref", json=ref)
            else:
                answer = http.delete(f"/v1.0/groups/{group}/members/{user}/$ref")
        assert answer.status_code == 204, answer.text

    member(inside, add=True)
    assert errors(deployment.run("initial")) == []
    assert list(deployment.shadows()) == [f"User_{inside}"]

    member(outside, add=True)  # joins: an account, from a delta cycle
    assert errors(deployment.run()) == []
    assert set(deployment.shadows()) == {f"User_{inside}", f"User_{outside}"}

    member(inside, add=False)  # leaves: disabled, not deleted
    report = deployment.run()
    assert errors(report) == []
    assert exported(report, "ad")["delete"] == 0
    shadows = deployment.shadows()
    assert int(shadows[f"User_{inside}"]["userAccountControl"]) & DISABLED
    assert not int(shadows[f"User_{outside}"]["userAccountControl"]) & DISABLED
    assert exported(deployment.run(), "ad") == NOTHING


def test_only_the_sync_role_writes_the_on_premises_values_of_a_guest(guests: Any) -> None:
    deployment: GuestsDeployment = guests()
    guest = deployment.invite("eve.il@fabrikam.example", "Eve Il")
    forged = {
        "onPremisesSamAccountName": "administrator",
        "onPremisesSecurityIdentifier": "S-1-5-21-1-2-3-500",
    }
    with deployment.admin() as http:  # an application without the synchronization role
        answer = http.patch(f"/v1.0/users/{guest}", json=forged)
    assert answer.status_code == 400, answer.text
    assert "onPremisesSamAccountName" in answer.text
    with deployment.tenant.client(
        deployment.tenant.mint_user_token(guest, ["User.ReadWrite"])
    ) as http:
        answer = http.patch("/v1.0/me", json=forged)  # the guest, on itself
    assert answer.status_code in (400, 403), answer.text
    assert deployment.cloud_user(guest)["onPremisesSamAccountName"] is None
