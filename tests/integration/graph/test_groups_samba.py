"""Groups from the Samba AD DC into the served cloud directory: a partner group with its
members (a nested group among them), a member removed and one added as changes, the
group deleted with its AD group; read as a cloud application reads them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    def name(self, base: str) -> str:
        return f"{base}{self.tag}"

    def dn(self, base: str) -> str:
        return f"CN={self.name(base)},{self.ou}"

    def upn(self, base: str) -> str:
        return f"{self.name(base)}@contoso.com"

    def cycle(self, kind: str) -> Any:
        report = self.built.engine.cycle(kind)
        assert [f"{e.dn}: {e.message}" for run in report.runs for e in run.errors] == []
        return report

    def _get(self, path: str) -> Any:
        with self.tenant.client(self.tenant.app_token(self.tenant.admin_app)) as http:
            answer = http.get(path)
        answer.raise_for_status()
        return answer.json()

    def groups(self) -> dict[str, dict[str, Any]]:
        return {g["displayName"]: g for g in self._get("/v1.0/groups")["value"]}

    def members(self, base: str) -> set[str]:
        group = self.groups()[self.name(base)]
        found = self._get(f"/v1.0/groups/{group['id']}/members")["value"]
        return {m.get("userPrincipalName") or m["displayName"] for m in found}


@pytest.fixture(scope="module")
def org(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    """An OU of its own with four users and two groups, one cloud tenant, one engine."""
    root = tmp_path_factory.mktemp("groups-samba")
    tag = secrets.token_hex(3)
    ou = samba_dc.add_ou(f"Groups {tag}")
    for name in ("ann", "bob", "eve", "zoe"):
        samba_dc.add_user(f"{name}{tag}", ou_dn=ou, upn=f"{name}{tag}@contoso.com")
    inner = samba_dc.add_group(f"Inner{tag}", ou_dn=ou, members=[f"CN=eve{tag},{ou}"])
    samba_dc.add_group(
        f"Partners{tag}", ou_dn=ou, members=[f"CN=ann{tag},{ou}", f"CN=bob{tag},{ou}", inner]
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


def test_a_partner_group_follows_its_members_in_ad(org: Org) -> None:
    org.cycle("initial")
    assert set(org.groups()) == {org.name("Partners"), org.name("Inner")}
    partners = org.groups()[org.name("Partners")]
    assert partners["securityEnabled"] is True
    assert partners["onPremisesSamAccountName"] == org.name("Partners")
    assert org.members("Partners") == {org.upn("ann"), org.upn("bob"), org.name("Inner")}
    assert org.members("Inner") == {org.upn("eve")}
    assert exported(org.cycle("delta")) == {"add": 0, "update": 0, "delete": 0}

    org.dc.remove_members(org.dn("Partners"), [org.dn("bob")])
    assert exported(org.cycle("delta")) == {"add": 0, "update": 1, "delete": 0}
    assert org.members("Partners") == {org.upn("ann"), org.name("Inner")}

    org.dc.add_members(org.dn("Partners"), [org.dn("zoe")])
    assert exported(org.cycle("delta")) == {"add": 0, "update": 1, "delete": 0}
    assert org.members("Partners") == {org.upn("ann"), org.upn("zoe"), org.name("Inner")}
    assert exported(org.cycle("delta")) == {"add": 0, "update": 0, "delete": 0}

    # A member moved out of the synchronized OU leaves every cloud group naming her.
    outside = org.dc.add_ou(f"Outside {org.tag}")
    org.dc.move(org.dn("eve"), new_parent=outside)
    org.cycle("delta")
    assert org.members("Inner") == set()

    org.dc.delete(org.dn("Partners"))
    assert exported(org.cycle("delta")) == {"add": 0, "update": 0, "delete": 1}
    assert set(org.groups()) == {org.name("Inner")}
