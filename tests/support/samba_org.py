"""One organization of a test on the session's Samba DC: an OU of its own (a random tag in
its name), a tenant of a served cloud directory, and an engine syncing that OU into it.

with samba_org(samba_dc, server, root, "Groups") as org:
    samba_dc.add_user(org.name("ann"), ou_dn=org.ou, upn=org.upn("ann"))
    org.settings = '[filter]\\ngroup = "CN=...,..."\\n'   # before the first cycle
    org.cycle("initial")

The engine is built at the first cycle, so a test fills its OU (and sets extra settings)
first. The AD password is in ``PASSWORD_ENV`` while the organization lives.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml
from tests.support.samba import SambaDC, ad_connector_toml

from hybridsync.wiring import Built, build_from_file

PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
BUILTIN_RULES = '[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'


@dataclass
class SambaOrg:
    dc: SambaDC
    server: CloudServer
    tenant: CloudTenant
    root: Path
    ou: str
    tag: str
    settings: str = ""
    """TOML added after ``[builtin_rules]`` (``[filter]``, ``[safety]``, ...)."""
    _built: Built | None = None

    def name(self, base: str) -> str:
        """A name unique to this organization: ``base`` and the tag."""
        return f"{base}{self.tag}"

    def dn(self, base: str, ou: str | None = None) -> str:
        return f"CN={self.name(base)},{ou or self.ou}"

    def upn(self, base: str, domain: str = "contoso.com") -> str:
        return f"{self.name(base)}@{domain}"

    @property
    def built(self) -> Built:
        if self._built is None:
            config = self.root / "hybridsync.toml"
            config.write_text(
                'store = "state.db"\n'
                + BUILTIN_RULES
                + self.settings
                + ad_connector_toml(self.dc, PASSWORD_ENV, [self.ou])
                + graph_connector_toml(self.server, self.tenant, self.root),
                encoding="utf-8",
            )
            self._built = build_from_file(config)
        return self._built

    def cycle(self, kind: str) -> Any:
        """One cycle; no object may fail."""
        report = self.built.engine.cycle(kind)
        assert [f"{e.dn}: {e.message}" for run in report.runs for e in run.errors] == []
        return report

    def get(self, path: str) -> httpx.Response:
        """A Graph GET as an administrator application of the tenant."""
        with self.tenant.client(self.tenant.app_token(self.tenant.admin_app)) as http:
            return http.get(path)

    def get_json(self, path: str) -> Any:
        answer = self.get(path)
        answer.raise_for_status()
        return answer.json()

    def groups(self) -> dict[str, dict[str, Any]]:
        """The tenant's groups by displayName."""
        return {g["displayName"]: g for g in self.get_json("/v1.0/groups")["value"]}

    def users(self) -> set[str]:
        """The tenant's users' UPNs."""
        return {u["userPrincipalName"] for u in self.get_json("/v1.0/users?$top=999")["value"]}

    def members(self, base: str) -> set[str]:
        """A cloud group's direct members: users by UPN, groups by displayName."""
        group = self.groups()[self.name(base)]
        found = self.get_json(f"/v1.0/groups/{group['id']}/members")["value"]
        return {m.get("userPrincipalName") or m["displayName"] for m in found}

    def close(self) -> None:
        if self._built is not None:
            self._built.close()


@contextmanager
def samba_org(
    dc: SambaDC, server: CloudServer, root: Path, label: str, tenant: CloudTenant | None = None
) -> Iterator[SambaOrg]:
    """A new OU named ``label`` and a tag, a new tenant of ``server`` (unless given)."""
    tag = secrets.token_hex(3)
    ou = dc.add_ou(f"{label} {tag}")
    root.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get(PASSWORD_ENV)
    os.environ[PASSWORD_ENV] = dc.admin_password
    org = SambaOrg(dc, server, tenant or server.new_tenant("contoso.com"), root, ou, tag)
    try:
        yield org
    finally:
        org.close()
        if previous is None:
            os.environ.pop(PASSWORD_ENV, None)
        else:
            os.environ[PASSWORD_ENV] = previous
