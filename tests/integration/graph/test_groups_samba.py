"""Groups from the Samba AD DC into the served cloud directory: a partner group with its
members (a nested group among them), a member removed and one added as changes, the
group deleted with its AD group; read as a cloud application reads them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.cloud_server import serve_cloud
from tests.support.samba import SambaDC
from tests.support.samba_org import SambaOrg as Org
from tests.support.samba_org import samba_org

pytestmark = pytest.mark.samba


@pytest.fixture(scope="module")
def org(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    """An OU of its own with four users and two groups, one cloud tenant, one engine."""
    root = tmp_path_factory.mktemp("groups-samba")
    with serve_cloud(root / "cloud") as server, samba_org(samba_dc, server, root, "Groups") as org:
        ou = org.ou
        for name in ("ann", "bob", "eve", "zoe"):
            samba_dc.add_user(org.name(name), ou_dn=ou, upn=org.upn(name))
        inner = samba_dc.add_group(org.name("Inner"), ou_dn=ou, members=[org.dn("eve")])
        samba_dc.add_group(
            org.name("Partners"), ou_dn=ou, members=[org.dn("ann"), org.dn("bob"), inner]
        )
        yield org


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
