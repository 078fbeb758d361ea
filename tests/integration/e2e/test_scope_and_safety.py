"""Issue 6 end to end in upn-suffix mode: partners by UPN suffix, the documented error
for a partner without UPN (every other user still syncs), and mass deletion: an OU of 600
users taken out of scope stops at the deletion threshold with nothing deleted, until the
admin's override applies it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.integration.e2e.harness import (
    MISSING_UPN,
    UPN_SUFFIX_MODE,
    Deployment,
    errors,
    export_run,
    exported,
    write_config,
)
from tests.support.cloud_server import serve_cloud
from tests.support.samba import SambaDC

pytestmark = [pytest.mark.samba, pytest.mark.slow]
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
BULK = 600


@dataclass
class Site:
    deployment: Deployment
    tag: str
    top: str
    ous: dict[str, str]
    no_upn_dn: str
    initial: dict[str, Any]


@pytest.fixture(scope="module")
def site(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tag = f"s{secrets.token_hex(2)}"
    root = tmp_path_factory.mktemp("e2e-scope")
    top = samba_dc.add_ou(f"E2E {tag}")
    ous = {name: samba_dc.add_ou(name, top) for name in ("Staff", "Partners", "Bulk")}
    samba_dc.add_user(f"{tag}ann", ou_dn=ous["Staff"], upn=f"{tag}ann@contoso.com")
    samba_dc.add_user(f"{tag}pia", ou_dn=ous["Partners"], upn=f"{tag}pia@partners.contoso.com")
    no_upn = samba_dc.add_user(f"{tag}nop", ou_dn=ous["Partners"], upn=None)
    samba_dc.add_users_bulk(BULK, ou_dn=ous["Bulk"], prefix=f"{tag}b")
    os.environ[PASSWORD_ENV] = samba_dc.admin_password
    try:
        with serve_cloud(root / "cloud") as server:
            tenant = server.new_tenant("contoso.com")
            config = write_config(
                root, samba_dc, server, tenant, include=[top], user_type=UPN_SUFFIX_MODE
            )
            deployment = Deployment(config, samba_dc, tenant)
            initial = deployment.run("initial", codes=(1,))  # 1: the object in error
            yield Site(deployment, tag, top, ous, no_upn, initial)
    finally:
        os.environ.pop(PASSWORD_ENV, None)


def test_partners_by_suffix_and_the_documented_error_for_no_upn(site: Site) -> None:
    assert errors(site.initial) == [(site.no_upn_dn, MISSING_UPN)]
    users = site.deployment.users()
    assert len(users) == BULK + 2
    assert users[f"{site.tag}pia"]["userType"] == "Guest"
    assert users[f"{site.tag}ann"]["userType"] == "Member"
    assert users[f"{site.tag}b000000"]["userType"] == "Member"


def test_an_ou_out_of_scope_stops_at_the_threshold_until_the_override(site: Site) -> None:
    deployment = site.deployment
    before = set(deployment.users())
    assert len(before) == BULK + 2
    text = deployment.config.read_text("utf-8")
    narrowed = text.replace("exclude_ous = []", f'exclude_ous = ["{site.ous["Bulk"]}"]')
    deployment.config.write_text(narrowed, "utf-8")
    # The import guard asks for --allow-shrink (the admin meant it); the deletion
    # threshold (500 by default) still stops the export before any delete.
    stopped = deployment.run("initial", "--allow-shrink", codes=(2,))
    export = export_run(stopped)
    assert export["status"] == "stopped-deletion-threshold-exceeded"
    assert f"{BULK} deletes" in export["message"]
    assert set(deployment.users()) == before
    applied = deployment.run("export", "--connector", "cloud", "--allow-deletes", codes=(0,))
    assert exported(applied)["delete"] == BULK
    assert set(deployment.users()) == {f"{site.tag}ann", f"{site.tag}pia"}
    assert len(deployment.deleted_users()) == BULK  # soft-deleted, restorable for 30 days
