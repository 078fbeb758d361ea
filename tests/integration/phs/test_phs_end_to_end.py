"""Password hash sync end to end on real components: Samba AD DC, ``hybridsync run`` and
``hybridsync phs run`` (subprocesses), the cloud directory served over HTTPS.

A partner's AD password signs in to the cloud through msal, the new one after
``samba-tool user setpassword`` and the next PHS run (the old one no longer); a user
filtered out of sync and a disabled one get no hash; with Samba stopped the stored hashes
still sign in; neither password nor NT hash appears in output, store or cloud database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.integration.phs.accounts import Account, guid_text, samba_tool_setpassword
from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml, serve_cloud
from tests.support.samba import SambaDC, ad_connector_toml
from tests.support.signin import GRAPH_USER_READ, msal_app, public_client

from hybridsync.cloud.password_hash_sync import stored_password_hash, verify_synced_password_hash
from hybridsync.md4 import md4

pytestmark = [
    pytest.mark.samba,
    # msal warns that the password grant is deprecated for public clients; it is the
    # grant the issue names ("sign-in via msal" with the AD password).
    pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning"),
]
AD_ENV, PHS_ENV = "HYBRIDSYNC_AD_PASSWORD", "HYBRIDSYNC_PHS_PASSWORD"
PARTNER_PW, PARTNER_NEW_PW = "Partner-Pw!2026a", "Partner-New!2026b"
FILTERED_PW, DISABLED_PW = "Filtered-Pw!2026c", "Disabled-Pw!2026d"


@dataclass
class World:
    root: Path
    config: Path
    server: CloudServer
    tenant: CloudTenant
    outputs: list[str]
    anchors: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(Path(sys.executable).parent / "hybridsync"), *args, "-c", str(self.config)]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=self.root, check=False, timeout=300
        )
        self.outputs.extend([done.stdout, done.stderr])
        return done

    def phs_run(self) -> dict[str, Any]:
        done = self.cli("phs", "run", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    def cloud_id(self, sam: str) -> str | None:
        with self.tenant.client(self.tenant.app_token(self.tenant.admin_app)) as http:
            answer = http.get(
                "/v1.0/users", params={"$filter": f"onPremisesSamAccountName eq '{sam}'"}
            )
        answer.raise_for_status()
        found = answer.json()["value"]
        return str(found[0]["id"]) if found else None

    def stored(self, sam: str) -> str | None:
        user_id = self.cloud_id(sam)
        if user_id is None:
            return None
        return stored_password_hash(self.server.service, self.tenant.id, user_id)

    def hash_matches(self, sam: str, password: str) -> bool:
        wire = self.stored(sam)
        return wire is not None and verify_synced_password_hash(wire, password)

    def signs_in(self, sam: str, password: str) -> bool:
        """A cloud sign-in through msal's password grant (no agent runs: PHS only)."""
        app = msal_app(self.tenant, public_client(self.tenant))
        try:
            result = app.acquire_token_by_username_password(
                f"{sam}@partners.contoso.com", password, scopes=[GRAPH_USER_READ]
            )
        finally:
            app.http_client.close()  # no keep-alive connection outlives the served cloud
        signed_in = "access_token" in result
        assert signed_in == self.hash_matches(sam, password), result
        return signed_in


def write_config(world_root: Path, dc: SambaDC, server: CloudServer, tenant: CloudTenant,
                 included: str, excluded: str, account: Account) -> Path:  # fmt: skip
    config = world_root / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"

[builtin_rules]
source = "ad"
target = "cloud"

[user_type]
source = "upn-suffix"
suffixes = ["@partners.contoso.com"]

[password_hash_sync]
source = "ad"
target = "cloud"
dc_host = "{dc.address}"
domain = "{dc.fqdn}"
username = "{account.sam}"
password_env = "{PHS_ENV}"
{ad_connector_toml(dc, AD_ENV, [included], [excluded])}
{graph_connector_toml(server, tenant, world_root)}""",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def world(
    samba_dc: SambaDC, phs_ou: str, tag: str, sync_account: Account,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:  # fmt: skip
    root = tmp_path_factory.mktemp("phs-e2e")
    synced_ou = samba_dc.add_ou("Synced", parent_dn=phs_ou)
    filtered_ou = samba_dc.add_ou("Filtered", parent_dn=synced_ou)
    users = {
        f"pa-{tag}": (synced_ou, PARTNER_PW, True),
        f"fl-{tag}": (filtered_ou, FILTERED_PW, True),
        f"di-{tag}": (synced_ou, DISABLED_PW, False),
    }
    anchors = {}
    for sam, (ou, password, enabled) in users.items():
        dn = samba_dc.add_user(
            sam, ou_dn=ou, upn=f"{sam}@partners.contoso.com", password=password, enabled=enabled
        )
        anchors[sam] = guid_text(samba_dc, dn)
    os.environ[AD_ENV] = samba_dc.admin_password
    os.environ[PHS_ENV] = sync_account.password
    try:
        with serve_cloud(root / "cloud") as server:
            tenant = server.new_tenant("contoso.com")
            config = write_config(root, samba_dc, server, tenant, synced_ou, filtered_ou,
                                  sync_account)  # fmt: skip
            world = World(root, config, server, tenant, [], anchors)
            done = world.cli("run", "initial", "--json")
            assert done.returncode in (0, 1), done.stdout + done.stderr
            yield world
    finally:
        os.environ.pop(AD_ENV, None)
        os.environ.pop(PHS_ENV, None)


def test_first_run_then_a_password_change_then_dc_offline(
    world: World, samba_dc: SambaDC, tag: str
) -> None:
    partner, filtered, disabled = f"pa-{tag}", f"fl-{tag}", f"di-{tag}"
    assert world.stored(partner) is None  # the object cycle sends no hash

    first = world.phs_run()
    assert first["status"] == "success", first
    assert first["synced"] == 1, first
    assert world.signs_in(partner, PARTNER_PW)
    assert not world.signs_in(partner, FILTERED_PW)
    assert not world.signs_in(disabled, DISABLED_PW)
    assert world.cloud_id(filtered) is None  # filtered out of sync: no user, no hash
    assert world.cloud_id(disabled) is not None  # synced, but outside the PHS rule's scope
    assert world.stored(disabled) is None

    assert world.phs_run()["synced"] == 0  # nothing changed: nothing read, nothing sent

    samba_tool_setpassword(samba_dc, partner, PARTNER_NEW_PW)
    after = world.phs_run()  # the next run of the 2-minute schedule
    assert after["synced"] == 1, after
    assert world.signs_in(partner, PARTNER_NEW_PW)
    assert not world.signs_in(partner, PARTNER_PW)

    samba_dc.stop()
    try:
        assert world.signs_in(partner, PARTNER_NEW_PW)  # the cloud checks on its own
        down = world.cli("phs", "run", "--json")
        assert down.returncode == 5, down.stdout + down.stderr  # unreachable, nothing lost
        assert world.signs_in(partner, PARTNER_NEW_PW)
    finally:
        samba_dc.start()


def secret_forms(password: str) -> list[bytes]:
    nt_hash = md4(password.encode("utf-16-le"))
    return [
        password.encode(),
        password.encode("utf-16-le"),
        nt_hash,
        nt_hash.hex().encode(),
        nt_hash.hex().upper().encode(),
    ]


def test_no_password_or_nt_hash_in_output_store_or_cloud_database(world: World, tag: str) -> None:
    if world.stored(f"pa-{tag}") is None:
        world.phs_run()
    files = [p for p in world.root.rglob("*") if p.is_file() and p.suffix != ".secret"]
    assert any(p.name == "state.db" for p in files)
    assert any(p.name == "cloud.db" for p in files)
    haystacks = [p.read_bytes() for p in files] + [o.encode() for o in world.outputs]
    for password in (PARTNER_PW, PARTNER_NEW_PW, FILTERED_PW, DISABLED_PW):
        for form in secret_forms(password):
            assert not any(form in hay for hay in haystacks), password
