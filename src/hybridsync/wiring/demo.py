"""The demo's workspace: the bundled Contoso sample synced into an embedded cloud directory.

Everything lives in one data folder, so the commands it suggests afterwards (``plan``,
``preview``, ``run``) work on it with ``--config <folder>/hybridsync.toml``::

    hybridsync.toml    the configuration (LDIF source, embedded cloud, userType feature)
    contoso.ldif       a copy of the sample directory: edit it and run again
    hybridsync.db      the sync engine's store
    cloud/             the cloud directory (SQLite, keys, the sync app's credentials)
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hybridsync.engine import CycleReport
from hybridsync.wiring.build import build_from_file
from hybridsync.wiring.embedded import EmbeddedCloud

DEFAULT_DATA_DIR = Path(".hybridsync/demo")
TENANT = "contoso.com"
PARTNER_DOMAIN = "partners.contoso.com"

CONFIG = f"""\
# hybridsync demo: the Contoso sample directory into an embedded cloud directory.
# Try: hybridsync plan --config hybridsync.toml   (from this folder)

store = "hybridsync.db"

# Entra Connect's out-of-box user rules, from the LDIF "AD" to the cloud directory.
[builtin_rules]
source = "ad"
target = "cloud"

# Partners as guests: the whole userType procedure is this one entry.
[user_type]
source = "upn-suffix"
suffixes = ["@{PARTNER_DOMAIN}"]

[[connectors]]
type = "ldif"
name = "ad"
path = "contoso.ldif"
object_types = ["user", "group"]   # groups, their members and users' managers too

[[connectors]]
type = "embedded-cloud"      # hybridsync's cloud directory, in this process
name = "cloud"
data_dir = "cloud"
tenant = "{TENANT}"
domains = ["{PARTNER_DOMAIN}"]
"""


@dataclass(frozen=True, slots=True)
class DemoGroup:
    """A cloud group and its direct members: users by UPN, groups by displayName."""

    display_name: str
    members: list[str]


@dataclass(slots=True)
class DemoResult:
    data_dir: Path
    config: Path
    cycle: CycleReport
    first_run: bool
    members: list[dict[str, Any]] = field(default_factory=list)
    guests: list[dict[str, Any]] = field(default_factory=list)
    groups: list[DemoGroup] = field(default_factory=list)

    @property
    def exported(self) -> dict[str, int]:
        """Adds, updates and deletes the export sent to the cloud directory."""
        totals: dict[str, int] = {}
        for run in self.cycle.runs:
            if run.profile.value == "export":
                for kind in ("add", "update", "delete"):
                    totals[kind] = totals.get(kind, 0) + run.counts.get(kind, 0)
        return totals


def prepare(data_dir: Path) -> tuple[Path, bool]:
    """Create the workspace unless it exists; return its config and whether it is new.

    An existing sample copy or configuration is kept: the user may have edited them.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    sample = data_dir / "contoso.ldif"
    if not sample.exists():
        source = resources.files("hybridsync").joinpath("samples/contoso.ldif")
        with resources.as_file(source) as path:
            shutil.copyfile(path, sample)
    config = data_dir / "hybridsync.toml"
    if not config.exists():
        config.write_text(CONFIG, encoding="utf-8")
    return config, not (data_dir / "hybridsync.db").exists()


def run_demo(data_dir: Path = DEFAULT_DATA_DIR) -> DemoResult:
    """Sync the sample: an initial cycle the first time, a delta cycle afterwards."""
    config, first_run = prepare(data_dir)
    built = build_from_file(config)
    try:
        cycle = built.engine.cycle("initial" if first_run else "delta")
    finally:
        built.close()
    result = DemoResult(data_dir, config, cycle, first_run)
    cloud = EmbeddedCloud.open(data_dir / "cloud", TENANT, [PARTNER_DOMAIN])
    try:
        for user in sorted(cloud.users(), key=lambda u: str(u.get("userPrincipalName"))):
            kind = result.guests if user.get("userType") == "Guest" else result.members
            kind.append(user)
        result.groups = cloud_groups(cloud)
    finally:
        cloud.close()
    return result


def cloud_groups(cloud: EmbeddedCloud) -> list[DemoGroup]:
    """The tenant's groups by name, each with its direct members sorted."""
    service, tenant = cloud.service, cloud.tenant.id
    found = []
    for group in service.groups.all_groups(tenant):
        members, _ = service.memberships.members(tenant, str(group["id"]))
        names = sorted(_member_name(m.kind, m.data) for m in members)
        found.append(DemoGroup(str(group.get("displayName")), names))
    return sorted(found, key=lambda g: g.display_name)


def _member_name(kind: str, data: dict[str, Any]) -> str:
    key = "userPrincipalName" if kind == "user" else "displayName"
    return str(data.get(key))
