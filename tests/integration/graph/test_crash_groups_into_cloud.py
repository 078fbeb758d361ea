"""Crash safety of a group export into the served cloud directory: a real ``hybridsync
run`` process is killed (SIGKILL) at random moments, ten times, while it creates groups
and writes their members (the members held back until the groups exist, then sent in
later batches), and while a delta cycle moves members between groups; then runs complete.
Every cloud group must hold exactly its members: no duplicate group, no duplicate user,
no member lost or left behind.
"""

from __future__ import annotations

import base64
import random
import struct
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml, serve_cloud
from tests.support.preloaded import PreloadedPython, run_killed_at

from hybridsync.cloud.db import membership_log
from hybridsync.wiring import build_from_file

pytestmark = pytest.mark.slow

USERS = 40
GROUPS = 8
SECURITY_GLOBAL = -2147483646  # groupType of a global security group
Memberships = dict[str, set[str]]
"""Group name -> member names (``userNNN`` or a group's name)."""


@pytest.fixture
def processes() -> Iterator[PreloadedPython]:
    """The runs to kill: each a process of its own, forked from one that imported
    hybridsync once, so the ten runs do not each pay the import."""
    modules = ["hybridsync.cli.run", "hybridsync.wiring", "hybridsync.engine"]
    # and what a run imports lazily (bytecode may not be written: each child would compile)
    modules += ["hybridsync.store.sqlite", "hybridsync.connectors.graph"]
    modules += ["hybridsync.connectors.ldif"]
    with PreloadedPython(modules) as python:
        yield python


def _guid(name: str) -> str:
    return base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, name).bytes_le).decode()


def _sid(rid: int) -> str:
    parts = (21, 7, 8, 9, rid)
    raw = bytes([1, len(parts)]) + (5).to_bytes(6, "big") + struct.pack("<5I", *parts)
    return base64.b64encode(raw).decode()


def _dn(name: str) -> str:
    ou = "Groups" if name.startswith("group") else "Staff"
    return f"CN={name},OU={ou},DC=contoso,DC=com"


def memberships(moved: bool) -> Memberships:
    """Each user in three of the groups; ``moved``: every user has left the first of
    them for the next one. Group 1 is also a member of group 0 (nested)."""
    wanted: Memberships = {f"group{g}": set() for g in range(GROUPS)}
    for index in range(USERS):
        for step in range(3):
            shift = 1 if moved and step == 0 else 0
            wanted[f"group{(index + shift + step * 3) % GROUPS}"].add(f"user{index:03d}")
    wanted["group0"].add("group1")
    return wanted


def ldif(path: Path, groups: Memberships) -> None:
    entries = []
    for index in range(USERS):
        sam = f"user{index:03d}"
        entries.append(
            f"dn: {_dn(sam)}\nobjectClass: user\nobjectGUID:: {_guid(sam)}\n"
            f"sAMAccountName: {sam}\nuserPrincipalName: {sam}@contoso.com\n"
            f"displayName: User {index}\nuserAccountControl: 512\n"
        )
    for rid, (name, members) in enumerate(sorted(groups.items()), start=5000):
        lines = [
            f"dn: {_dn(name)}", "objectClass: group", f"objectGUID:: {_guid(name)}",
            f"objectSid:: {_sid(rid)}", f"cn: {name}", f"sAMAccountName: {name}",
            f"groupType: {SECURITY_GLOBAL}", *(f"member: {_dn(m)}" for m in sorted(members)),
        ]  # fmt: skip
        entries.append("\n".join(lines) + "\n")
    path.write_text("version: 1\n\n" + "\n".join(entries), encoding="utf-8")


def setup(root: Path, server: CloudServer, tenant: CloudTenant) -> Path:
    config = root / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[safety]
batch_size = 10
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
object_types = ["user", "group"]{graph_connector_toml(server, tenant, root)}batch_size = 4
concurrency = 1
# Paced (about 50 writes per second), so a group export takes a few seconds and the kills
# land inside it.
write_quotas = [{{ requests = 30, per_seconds = 0.5 }}]
""",
        encoding="utf-8",
    )
    return config


def group_writes(server: CloudServer, tenant: CloudTenant) -> int:
    """Groups created and members added or removed so far: what the directory shows of
    a group export's progress (its membership log grows by one row per member written)."""
    with server.service.db.read() as conn:
        logged = conn.execute(
            sa.select(sa.func.count())
            .select_from(membership_log)
            .where(membership_log.c.tenant_id == tenant.id)
        ).scalar_one()
    return len(server.service.groups.all_groups(tenant.id)) + int(logged)


def killed_run(
    processes: PreloadedPython,
    config: Path,
    cycle: str,
    progress: Callable[[], int],
    rng: random.Random,
) -> int:
    """Start a run and kill it once its export has written a random few group writes
    (or at once if it finishes first); returns how many it had written."""
    before = progress()
    run_killed_at(processes, config, cycle, progress, before + rng.randint(1, 12))
    return progress() - before


def complete(config: Path, cycle: str) -> None:
    built = build_from_file(config)
    try:
        report = built.engine.cycle(cycle)
        assert report.status == "success", report.as_dict()
        assert [e.message for run in report.runs for e in run.errors] == []
    finally:
        built.close()


Objects = list[dict[str, Any]]


def cloud_state(tenant: CloudTenant) -> tuple[Objects, Objects, Memberships]:
    """The cloud's users, groups, and each group's direct members, read as an application."""
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:

        def values(path: str, select: str = "id,displayName,userPrincipalName") -> list[Any]:
            answer = http.get(path, params={"$top": "999", "$select": select})
            answer.raise_for_status()
            return list(answer.json()["value"])

        users = values("/v1.0/users", "id,userPrincipalName,onPremisesImmutableId")
        groups = values("/v1.0/groups", "id,displayName,onPremisesSecurityIdentifier")
        members = {
            group["displayName"]: {
                m.get("userPrincipalName", "").split("@")[0] or m["displayName"]
                for m in values(f"/v1.0/groups/{group['id']}/members")
            }
            for group in groups
        }
    return users, groups, members


def test_killed_ten_times_in_group_exports_then_completed_exact_members(
    tmp_path: Path, processes: PreloadedPython
) -> None:
    rng = random.Random(20261207)
    with serve_cloud(tmp_path / "cloud") as server:
        tenant = server.new_tenant("contoso.com")
        root = tmp_path / "sync"
        root.mkdir()
        config = setup(root, server, tenant)
        ldif(root / "ad.ldif", memberships(moved=False))

        def progress() -> int:
            return group_writes(server, tenant)

        created = [killed_run(processes, config, "initial", progress, rng) for _ in range(5)]
        complete(config, "initial")
        _, _, first = cloud_state(tenant)
        assert first == memberships(moved=False)
        # Every user leaves a group and joins another: 40 removals and 40 additions.
        ldif(root / "ad.ldif", memberships(moved=True))
        moved = [killed_run(processes, config, "delta", progress, rng) for _ in range(5)]
        complete(config, "delta")
        users, groups, members = cloud_state(tenant)
    # The kills landed inside group exports: each saw some, not all, of its group writes.
    total = GROUPS + sum(len(m) for m in memberships(moved=False).values())
    assert any(0 < seen < total for seen in created), created
    assert any(0 < seen < 2 * USERS for seen in moved), moved
    assert len(users) == USERS
    assert max(Counter(u["onPremisesImmutableId"] for u in users).values()) == 1
    assert len(groups) == GROUPS, "no duplicate group"
    assert max(Counter(g["onPremisesSecurityIdentifier"] for g in groups).values()) == 1
    assert members == memberships(moved=True)
