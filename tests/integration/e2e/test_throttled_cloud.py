"""Issue 6 end to end with the cloud's write quotas on: the run completes with every
object, no errors recorded, at the quota's pace (429s honoured through Retry-After)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from tests.integration.e2e.harness import (
    PASSWORD_ENV,
    UPN_SUFFIX_MODE,
    Deployment,
    errors,
    export_run,
    write_config,
)
from tests.support.cloud_server import serve_cloud
from tests.support.samba import SambaDC

from hybridsync.cloud import ThrottleSettings
from hybridsync.cloud.throttle import Quota

pytestmark = [pytest.mark.samba, pytest.mark.slow]
MEMBERS, PARTNERS = 90, 10
QUOTA = Quota(requests=40, seconds=3)


def test_a_throttled_cloud_gets_every_object_without_errors(
    samba_dc: SambaDC, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    tag = f"t{secrets.token_hex(2)}"
    top = samba_dc.add_ou(f"E2E {tag}")
    samba_dc.add_users_bulk(MEMBERS, ou_dn=top, prefix=f"{tag}m")
    samba_dc.add_users_bulk(
        PARTNERS, ou_dn=top, prefix=f"{tag}p", upn_suffix="partners.contoso.com"
    )
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)
    throttle = ThrottleSettings(app_tenant_writes=QUOTA)
    with serve_cloud(tmp_path / "cloud", throttle=throttle) as server:
        tenant = server.new_tenant("contoso.com")
        config = write_config(
            tmp_path, samba_dc, server, tenant, include=[top], user_type=UPN_SUFFIX_MODE
        )
        deployment = Deployment(config, samba_dc, tenant)
        report = deployment.run("initial", codes=(0,))
        users = deployment.users()
    assert errors(report) == []
    assert export_run(report)["counts"]["add"] == MEMBERS + PARTNERS
    types = [u["userType"] for u in users.values()]
    assert (types.count("Member"), types.count("Guest")) == (MEMBERS, PARTNERS)
    # 100 writes at 40 per 3 s need three windows: at least two full ones went by.
    assert export_run(report)["seconds"] >= 2 * QUOTA.seconds
