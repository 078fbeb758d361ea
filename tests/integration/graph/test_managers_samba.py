"""Managers from the Samba AD DC into the served cloud directory: set in the initial
cycle, kept when the manager is moved to another OU (nothing exported for the report),
changed, and cleared when the manager is deleted; read as a cloud application reads
them (``GET /users/{id}/manager``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ldap
import pytest
from tests.support.cloud_server import serve_cloud
from tests.support.samba import SambaDC
from tests.support.samba_org import SambaOrg, samba_org

pytestmark = pytest.mark.samba


class Org(SambaOrg):
    def sam(self, name: str) -> str:
        return self.name(name)

    def cloud_id(self, name: str) -> str:
        return str(self.get_json(f"/v1.0/users/{self.upn(name)}")["id"])

    def manager_of(self, name: str) -> str | None:
        answer = self.get(f"/v1.0/users/{self.cloud_id(name)}/manager")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return str(answer.json()["id"])

    def set_manager(self, name: str, manager: str) -> None:
        change = [(ldap.MOD_REPLACE, "manager", [manager.encode()])]
        self.dc.admin.modify_s(self.dn(name), change)


@pytest.fixture(scope="module")
def org(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    """An OU of its own with three users, one cloud tenant, one engine."""
    root = tmp_path_factory.mktemp("managers-samba")
    with (
        serve_cloud(root / "cloud") as server,
        samba_org(samba_dc, server, root, "Managers") as base,
    ):
        org = Org(base.dc, base.server, base.tenant, base.root, base.ou, base.tag)
        for name in ("boss", "chief", "ann"):
            samba_dc.add_user(org.sam(name), ou_dn=org.ou, upn=org.upn(name))
        org.set_manager("ann", org.dn("boss"))
        try:
            yield org
        finally:
            org.close()


def exported(report: Any) -> dict[str, int]:
    counts = [run.counts for run in report.runs if run.profile.value == "export"]
    return {k: sum(c.get(k, 0) for c in counts) for k in ("add", "update", "delete")}


def test_managers_follow_the_directory(org: Org) -> None:
    org.cycle("initial")
    boss = org.cloud_id("boss")
    assert org.manager_of("ann") == boss
    assert org.manager_of("boss") is None
    assert exported(org.cycle("delta")) == {"add": 0, "update": 0, "delete": 0}

    # Moving the manager changes his DN, not who he is: only his own user is updated.
    moved_to = org.dc.add_ou("Moved", parent_dn=org.ou)
    org.dc.admin.rename_s(org.dn("boss"), f"CN={org.sam('boss')}", moved_to)
    moved = org.cycle("delta")
    assert exported(moved) == {"add": 0, "update": 1, "delete": 0}
    assert org.manager_of("ann") == boss
    # AD reported the manager alone; the connector space's reference followed him, so
    # a later change of the report keeps her manager.
    assert moved.runs[0].counts.get("references-renamed") == 1
    org.dc.admin.modify_s(org.dn("ann"), [(ldap.MOD_REPLACE, "department", [b"Sales"])])
    assert exported(org.cycle("delta")) == {"add": 0, "update": 1, "delete": 0}
    assert org.manager_of("ann") == boss

    org.set_manager("ann", org.dn("chief"))
    org.cycle("delta")
    assert org.manager_of("ann") == org.cloud_id("chief")

    org.dc.admin.delete_s(org.dn("chief"))
    org.cycle("delta")
    assert org.manager_of("ann") is None
