"""Issue 6 end to end, on real components: Samba AD DC → ``hybridsync run`` (a real
process) → the cloud directory served over HTTPS. Attribute mode (extensionAttribute1).

One deployment per module; each test changes its own users in AD, runs a delta cycle and
checks those users in the cloud, so the tests hold in any order."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.integration.e2e.harness import Deployment, errors, exported, write_config
from tests.support.cloud_server import serve_cloud
from tests.support.samba import SambaDC

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"


@dataclass
class World:
    deployment: Deployment
    tag: str
    dns: dict[str, str]  # short name -> DN in AD
    ous: dict[str, str]
    initial: dict[str, Any]

    def sam(self, short: str) -> str:
        return f"{self.tag}{short}"

    def cloud(self, short: str) -> dict[str, Any]:
        return self.deployment.users()[self.sam(short)]

    def delta(self) -> dict[str, Any]:
        return self.deployment.run("delta", codes=(0, 1))


USERS: dict[str, tuple[str, str, dict[str, str]]] = {
    # short name: (OU, UPN domain, extra attributes)
    "ann": ("Staff", "contoso.com", {}),  # no extensionAttribute1: a Member
    "bob": ("Staff", "contoso.com", {"extensionAttribute1": "Member"}),
    "pia": ("Partners", "partners.contoso.com", {"extensionAttribute1": "Guest"}),
    "ren": ("Staff", "contoso.com", {"displayName": "Ren Old"}),
    "dis": ("Staff", "contoso.com", {}),
    "del": ("Staff", "contoso.com", {}),
    "mov": ("Staff", "contoso.com", {}),
    "svc": ("Service", "contoso.com", {}),  # in an excluded OU
}


@pytest.fixture(scope="module")
def world(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tag = f"e{secrets.token_hex(2)}"
    root = tmp_path_factory.mktemp("e2e-delta")
    top = samba_dc.add_ou(f"E2E {tag}")
    ous = {name: samba_dc.add_ou(name, top) for name in ("Staff", "Partners", "Service")}
    ous["Outside"] = samba_dc.add_ou(f"Outside {tag}")
    dns = {
        short: samba_dc.add_user(
            f"{tag}{short}", ou_dn=ous[ou], upn=f"{tag}{short}@{domain}", attributes=attrs
        )
        for short, (ou, domain, attrs) in USERS.items()
    }
    dns["msol"] = samba_dc.add_user(f"MSOL_{tag}", ou_dn=ous["Staff"], upn=None)
    os.environ[PASSWORD_ENV] = samba_dc.admin_password
    try:
        with serve_cloud(root / "cloud") as server:
            tenant = server.new_tenant("contoso.com")
            config = write_config(
                root, samba_dc, server, tenant, include=[top], exclude=[ous["Service"]]
            )
            deployment = Deployment(config, samba_dc, tenant)
            initial = deployment.run("initial", codes=(0, 1))
            yield World(deployment, tag, dns, ous, initial)
    finally:
        os.environ.pop(PASSWORD_ENV, None)


def test_initial_cycle_members_guests_and_on_premises_properties(
    world: World, samba_dc: SambaDC
) -> None:
    assert exported(world.initial)["add"] == 7
    users = world.deployment.users()
    expected = {world.sam(s): "Member" for s in ("ann", "bob", "ren", "dis", "del", "mov")}
    expected[world.sam("pia")] = "Guest"
    assert {sam: u["userType"] for sam, u in users.items()} == expected  # no svc, no MSOL_
    for short in ("ann", "pia"):
        user = users[world.sam(short)]
        guid = samba_dc.object_guid(world.dns[short])
        assert user["onPremisesImmutableId"] == base64.b64encode(guid).decode()
        assert user["onPremisesDistinguishedName"] == world.dns[short]
        assert user["onPremisesSyncEnabled"] is True
        assert user["onPremisesDomainName"] == samba_dc.fqdn
        assert user["accountEnabled"] is True


def test_extension_attribute_member_to_guest_flips_user_type(
    world: World, samba_dc: SambaDC
) -> None:
    samba_dc.modify(world.dns["bob"], {"extensionAttribute1": "Guest"})
    world.delta()
    assert world.cloud("bob")["userType"] == "Guest"


def test_rename_updates_upn_and_display_name(world: World, samba_dc: SambaDC) -> None:
    new_upn = f"{world.sam('ren')}.new@contoso.com"
    samba_dc.modify(world.dns["ren"], {"userPrincipalName": new_upn, "displayName": "Ren New"})
    world.delta()
    user = world.cloud("ren")
    assert (user["userPrincipalName"], user["displayName"]) == (new_upn, "Ren New")


def test_disabling_the_account_disables_the_cloud_user(world: World, samba_dc: SambaDC) -> None:
    samba_dc.modify(world.dns["dis"], {"userAccountControl": "514"})
    world.delta()
    assert world.cloud("dis")["accountEnabled"] is False


def test_a_deleted_ad_user_is_soft_deleted_and_restorable(world: World, samba_dc: SambaDC) -> None:
    samba_dc.delete(world.dns["del"])
    world.delta()
    assert world.sam("del") not in world.deployment.users()
    deleted = world.deployment.deleted_users()[world.sam("del")]
    world.deployment.restore(deleted["id"])
    assert world.cloud("del")["id"] == deleted["id"]


def test_moving_a_user_out_of_the_ou_filter_deletes_it(world: World, samba_dc: SambaDC) -> None:
    world.dns["mov"] = samba_dc.move(world.dns["mov"], new_parent=world.ous["Outside"])
    report = world.delta()
    assert world.sam("mov") not in world.deployment.users()
    assert world.sam("mov") in world.deployment.deleted_users()
    assert not [e for e in errors(report) if world.sam("mov") in e[0]]


def test_a_second_run_without_ad_changes_exports_nothing(world: World) -> None:
    world.delta()  # whatever the tests before left
    assert exported(world.delta()) == {"add": 0, "update": 0, "delete": 0}
