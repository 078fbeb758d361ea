"""Managers from the Samba AD DC into the served cloud directory: set in the initial
cycle, kept when the manager is moved to another OU (nothing exported for the report),
changed, and cleared when the manager is deleted; read as a cloud application reads
them (``GET /users/{id}/manager``)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ldap
import pytest
from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml, serve_cloud
from tests.support.samba import SambaDC, ad_connector_toml

from hybridsync.wiring import Built, build_from_file

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"


@dataclass
class Org:
    dc: SambaDC
    tenant: CloudTenant
    built: Built
    ou: str
    tag: str

    def sam(self, name: str) -> str:
        return f"{name}{self.tag}"

    def dn(self, name: str, ou: str | None = None) -> str:
        return f"CN={self.sam(name)},{ou or self.ou}"

    def cycle(self, kind: str) -> Any:
        report = self.built.engine.cycle(kind)
        assert [f"{e.dn}: {e.message}" for run in report.runs for e in run.errors] == []
        return report

    def _get(self, path: str) -> Any:
        with self.tenant.client(self.tenant.app_token(self.tenant.admin_app)) as http:
            return http.get(path)

    def cloud_id(self, name: str) -> str:
        answer = self._get(f"/v1.0/users/{self.sam(name)}@contoso.com")
        answer.raise_for_status()
        return str(answer.json()["id"])

    def manager_of(self, name: str) -> str | None:
        answer = self._get(f"/v1.0/users/{self.cloud_id(name)}/manager")
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
    tag = secrets.token_hex(3)
    ou = samba_dc.add_ou(f"Managers {tag}")
    for name in ("boss", "chief", "ann"):
        samba_dc.add_user(f"{name}{tag}", ou_dn=ou, upn=f"{name}{tag}@contoso.com")
    samba_dc.admin.modify_s(
        f"CN=ann{tag},{ou}", [(ldap.MOD_REPLACE, "manager", [f"CN=boss{tag},{ou}".encode()])]
    )
    os.environ[PASSWORD_ENV] = samba_dc.admin_password
    try:
        with serve_cloud(root / "cloud") as server:
            tenant = server.new_tenant("contoso.com")
            config = _write_config(root, samba_dc, server, tenant, ou)
            built = build_from_file(config)
            try:
                yield Org(samba_dc, tenant, built, ou, tag)
            finally:
                built.close()
    finally:
        os.environ.pop(PASSWORD_ENV, None)


def _write_config(
    root: Path, dc: SambaDC, server: CloudServer, tenant: CloudTenant, ou: str
) -> Path:
    config = root / "hybridsync.toml"
    config.write_text(
        'store = "state.db"\n[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'
        + ad_connector_toml(dc, PASSWORD_ENV, [ou])
        + graph_connector_toml(server, tenant, root),
        encoding="utf-8",
    )
    return config


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
