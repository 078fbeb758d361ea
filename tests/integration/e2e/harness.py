"""What the end-to-end scenarios share: a config written for one Samba OU and one cloud
tenant, ``hybridsync run`` as a real process, and the cloud's users read over HTTPS."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml
from tests.support.samba import SambaDC, ad_connector_toml

PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
ATTRIBUTE_MODE = 'source = "attribute"\nattribute = "extensionAttribute1"'
UPN_SUFFIX_MODE = 'source = "upn-suffix"\nsuffixes = ["@partners.contoso.com"]'
MISSING_UPN = "UserPrincipalName is not present to determine UserType"
SELECT = (
    "id,userPrincipalName,displayName,userType,accountEnabled,onPremisesImmutableId,"
    "onPremisesSyncEnabled,onPremisesSamAccountName,onPremisesDistinguishedName,"
    "onPremisesUserPrincipalName,onPremisesDomainName"
)


@dataclass
class Deployment:
    """One hybridsync installation: its config file, the DC and the cloud tenant."""

    config: Path
    dc: SambaDC
    tenant: CloudTenant

    def run(self, *args: str, codes: tuple[int, ...] = (0,)) -> dict[str, Any]:
        """``hybridsync run ARGS --json`` in a process of its own; its JSON report."""
        command = [str(Path(sys.executable).parent / "hybridsync"), "run", *args, "--json"]
        done = subprocess.run(
            [*command, "-c", str(self.config)],
            capture_output=True, text=True, cwd=self.config.parent, check=False, timeout=600,
        )  # fmt: skip
        assert done.returncode in codes, done.stdout[-3000:] + done.stderr[-3000:]
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    def users(self) -> dict[str, dict[str, Any]]:
        """The tenant's users by onPremisesSamAccountName."""
        return {u["onPremisesSamAccountName"]: u for u in self._get_all("/v1.0/users")}

    def deleted_users(self) -> dict[str, dict[str, Any]]:
        path = "/v1.0/directory/deletedItems/microsoft.graph.user"
        return {u["onPremisesSamAccountName"]: u for u in self._get_all(path)}

    def restore(self, user_id: str) -> None:
        with self.tenant.client(self._token()) as http:
            answer = http.post(f"/v1.0/directory/deletedItems/{user_id}/restore")
        answer.raise_for_status()

    def _get_all(self, path: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        with self.tenant.client(self._token()) as http:
            url: str | None = path
            params: dict[str, str] | None = {"$select": SELECT, "$top": "999"}
            while url:
                answer = http.get(url, params=params)
                answer.raise_for_status()
                page = answer.json()
                found.extend(page["value"])
                url, params = page.get("@odata.nextLink"), None
        return found

    def _token(self) -> str:
        return self.tenant.app_token(self.tenant.admin_app)


def write_config(
    root: Path,
    dc: SambaDC,
    server: CloudServer,
    tenant: CloudTenant,
    *,
    include: list[str],
    exclude: tuple[str, ...] = (),
    user_type: str = ATTRIBUTE_MODE,
    extra: str = "",
) -> Path:
    """The config a user writes (see docs/walkthrough.md), for one OU and one tenant."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"
{extra}

[builtin_rules]
source = "ad"
target = "cloud"

[user_type]
{user_type}
{ad_connector_toml(dc, PASSWORD_ENV, include, list(exclude))}
{graph_connector_toml(server, tenant, root)}""",
        encoding="utf-8",
    )
    return config


def errors(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["dn"], e["message"]) for run in report["runs"] for e in run["errors"]]


def exported(report: dict[str, Any]) -> dict[str, int]:
    """Adds, updates and deletes the export runs of a cycle (or one run) sent."""
    runs = report.get("runs", [report])
    counts = {"add": 0, "update": 0, "delete": 0}
    for run in runs:
        if run["profile"] == "export":
            for kind in counts:
                counts[kind] += run["counts"].get(kind, 0)
    return counts


def export_run(report: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in report["runs"] if r["profile"] == "export")
