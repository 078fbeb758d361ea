"""Groups from LDIF into the served cloud directory through the Graph connector: created
with exactly their members (a nested group among them), a member removed and one added
as the change itself (``.../members/$ref``), the group deleted with its AD group; a
critical system group stays out. Checked as a cloud application reads them."""

from __future__ import annotations

import base64
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.support.cloud_server import CloudServer, graph_connector_toml, serve_cloud

from hybridsync.cloud.tenancy import DEFAULT_SYNC_APP_ROLES
from hybridsync.wiring import Built, build_from_file

CONFIG = """
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
object_types = ["user", "group"]
"""
SECURITY_GLOBAL = -2147483646  # groupType of a global security group


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with serve_cloud(tmp_path_factory.mktemp("cloud")) as served:
        yield served


def _sid(rid: int) -> str:
    parts = (21, 7, 8, 9, rid)
    raw = bytes([1, len(parts)]) + (5).to_bytes(6, "big") + struct.pack("<5I", *parts)
    return base64.b64encode(raw).decode()


def _guid(name: str) -> str:
    return base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, name).bytes_le).decode()


class Directory:
    """The LDIF directory of one test, its engine, and its cloud tenant."""

    def __init__(self, root: Path, server: CloudServer) -> None:
        self.root = root
        self.tenant = server.new_tenant()
        self.entries: dict[str, str] = {}
        (root / "hybridsync.toml").write_text(
            CONFIG + graph_connector_toml(server, self.tenant, root), "utf-8"
        )
        self.built: Built | None = None

    @staticmethod
    def user_dn(sam: str) -> str:
        return f"CN={sam},OU=Staff,DC=contoso,DC=com"

    @staticmethod
    def group_dn(name: str) -> str:
        return f"CN={name},OU=Groups,DC=contoso,DC=com"

    def put_user(self, sam: str) -> None:
        lines = [
            f"dn: {self.user_dn(sam)}", f"objectGUID:: {_guid(sam)}", "objectClass: user",
            f"cn: {sam}", f"sAMAccountName: {sam}", f"displayName: {sam.title()}",
            f"userPrincipalName: {sam}@{self.tenant.domain}", "userAccountControl: 512",
        ]  # fmt: skip
        self._put(sam, lines)

    def put_group(self, name: str, rid: int, members: list[str], **extra: str) -> None:
        lines = [
            f"dn: {self.group_dn(name)}", f"objectGUID:: {_guid('group-' + name)}",
            f"objectSid:: {_sid(rid)}", "objectClass: group", f"cn: {name}",
            f"sAMAccountName: {name.replace(' ', '')}", f"groupType: {SECURITY_GLOBAL}",
            *(f"member: {member}" for member in members),
            *(f"{key}: {value}" for key, value in extra.items()),
        ]  # fmt: skip
        self._put(name, lines)

    def _put(self, key: str, lines: list[str]) -> None:
        self.entries[key] = "\n".join(lines) + "\n"
        self._write()

    def remove(self, key: str) -> None:
        del self.entries[key]
        self._write()

    def _write(self) -> None:
        text = "version: 1\n\n" + "\n".join(self.entries.values())
        (self.root / "ad.ldif").write_text(text, "utf-8")

    def cycle(self, kind: str) -> Any:
        if self.built is None:
            self.built = build_from_file(self.root / "hybridsync.toml")
        report = self.built.engine.cycle(kind)
        found = [f"{e.dn}: {e.message}" for run in report.runs for e in run.errors]
        assert found == []
        return report

    def get(self, path: str) -> Any:
        with self.tenant.client(self.tenant.app_token(self.tenant.admin_app)) as http:
            answer = http.get(path)
        answer.raise_for_status()
        return answer.json()

    def groups(self) -> dict[str, dict[str, Any]]:
        """The cloud groups by displayName."""
        return {g["displayName"]: g for g in self.get("/v1.0/groups")["value"]}

    def members(self, name: str) -> set[str]:
        """The direct members of a cloud group: users by UPN, groups by displayName."""
        group = self.groups()[name]
        found = self.get(f"/v1.0/groups/{group['id']}/members")["value"]
        return {m.get("userPrincipalName") or m["displayName"] for m in found}

    def upn(self, sam: str) -> str:
        return f"{sam}@{self.tenant.domain}"

    def groups_delta_link(self) -> str:
        page = self.get("/v1.0/groups/delta?$deltatoken=latest")
        return str(page["@odata.deltaLink"])

    def remove_member_in_the_cloud(self, group: str, upn: str) -> None:
        """Drift: a member removed in the cloud (by the synchronization role itself, the
        only one the cloud lets change a synced group's members)."""
        group_id = self.groups()[group]["id"]
        member = self.get(f"/v1.0/users/{upn}")["id"]
        with self.tenant.client(self.tenant.app_token(self.tenant.sync_app)) as http:
            path = f"/v1.0/groups/{group_id}/members/{member}/$ref"
            assert http.delete(path).status_code == 204

    def add_member_in_the_cloud(self, group: str, upn: str) -> None:
        """Drift the other way: a member added in the cloud, by another application
        holding the synchronization role (no other may change a synced group)."""
        group_id = self.groups()[group]["id"]
        member = self.get(f"/v1.0/users/{upn}")["id"]
        reference = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{member}"}
        other = self.tenant.add_app(DEFAULT_SYNC_APP_ROLES)
        with self.tenant.client(self.tenant.app_token(other)) as http:
            answer = http.post(f"/v1.0/groups/{group_id}/members/$ref", json=reference)
            assert answer.status_code == 204

    def follow(self, link: str) -> Any:
        """A deltaLink of the served directory, followed."""
        parts = urlsplit(link)
        return self.get(f"{parts.path}?{parts.query}")

    def close(self) -> None:
        if self.built is not None:
            self.built.close()


@pytest.fixture
def directory(tmp_path: Path, server: CloudServer) -> Iterator[Directory]:
    created = Directory(tmp_path, server)
    yield created
    created.close()


def exported(report: Any) -> dict[str, int]:
    counts = [run.counts for run in report.runs if run.profile.value == "export"]
    return {k: sum(c.get(k, 0) for c in counts) for k in ("add", "update", "delete")}


def _partners(directory: Directory) -> None:
    for sam in ("ann", "bob", "eve", "zoe"):
        directory.put_user(sam)
    directory.put_group("Partners Inner", 1101, [directory.user_dn("eve")])
    directory.put_group(
        "Partners - Project X",
        1102,
        [directory.user_dn("ann"), directory.user_dn("bob"), directory.group_dn("Partners Inner")],
    )
    directory.put_group(
        "Domain Admins", 512, [directory.user_dn("ann")], isCriticalSystemObject="TRUE"
    )


def test_a_group_reaches_the_cloud_with_exactly_its_members_and_follows_them(
    directory: Directory,
) -> None:
    _partners(directory)
    directory.cycle("initial")
    d = directory
    cloud = d.groups()
    assert set(cloud) == {"Partners - Project X", "Partners Inner"}  # no critical group
    partners = cloud["Partners - Project X"]
    assert partners["securityEnabled"] is True
    assert partners["mailEnabled"] is False
    assert partners["onPremisesSyncEnabled"] is True
    assert partners["onPremisesSecurityIdentifier"] == "S-1-5-21-7-8-9-1102"
    assert d.members("Partners - Project X") == {d.upn("ann"), d.upn("bob"), "Partners Inner"}
    assert d.members("Partners Inner") == {d.upn("eve")}

    # The import confirms the groups and their members: nothing more is written.
    assert exported(d.cycle("delta")) == {"add": 0, "update": 0, "delete": 0}
    assert exported(d.cycle("initial")) == {"add": 0, "update": 0, "delete": 0}

    # A member removed in the cloud is seen by the delta import and added again.
    d.remove_member_in_the_cloud("Partners - Project X", d.upn("ann"))
    assert d.members("Partners - Project X") == {d.upn("bob"), "Partners Inner"}
    assert exported(d.cycle("delta")) == {"add": 0, "update": 1, "delete": 0}
    assert d.members("Partners - Project X") == {d.upn("ann"), d.upn("bob"), "Partners Inner"}

    # bob leaves the group: exactly he is removed.
    d.put_group("Partners - Project X", 1102, [d.user_dn("ann"), d.group_dn("Partners Inner")])
    since = d.groups_delta_link()
    assert exported(d.cycle("delta")) == {"add": 0, "update": 1, "delete": 0}
    assert d.members("Partners - Project X") == {d.upn("ann"), "Partners Inner"}
    (changed,) = d.follow(since)["value"]
    assert [m.get("@removed") is not None for m in changed["members@delta"]] == [True]

    # zoe joins: one member added, the others untouched.
    d.put_group(
        "Partners - Project X",
        1102,
        [d.user_dn("ann"), d.group_dn("Partners Inner"), d.user_dn("zoe")],
    )
    since = d.groups_delta_link()
    assert exported(d.cycle("delta")) == {"add": 0, "update": 1, "delete": 0}
    assert d.members("Partners - Project X") == {d.upn("ann"), d.upn("zoe"), "Partners Inner"}
    (changed,) = d.follow(since)["value"]
    zoe = d.get(f"/v1.0/users/{d.upn('zoe')}")["id"]
    assert [m["id"] for m in changed["members@delta"]] == [zoe]
    assert exported(d.cycle("delta")) == {"add": 0, "update": 0, "delete": 0}

    # Drift seen through members@delta alone (the changes, applied to the members the
    # connector space holds): bob added and zoe removed in the cloud; the delta cycle
    # takes bob out and puts zoe back, and the next one finds nothing to do.
    since = d.groups_delta_link()
    d.add_member_in_the_cloud("Partners - Project X", d.upn("bob"))
    d.remove_member_in_the_cloud("Partners - Project X", d.upn("zoe"))
    (drift,) = d.follow(since)["value"]
    assert sorted("@removed" in m for m in drift["members@delta"]) == [False, True]
    assert exported(d.cycle("delta")) == {"add": 0, "update": 1, "delete": 0}
    assert d.members("Partners - Project X") == {d.upn("ann"), d.upn("zoe"), "Partners Inner"}
    assert exported(d.cycle("delta")) == {"add": 0, "update": 0, "delete": 0}

    # The nested group is deleted in AD: it leaves the cloud and the group naming it.
    d.remove("Partners Inner")
    d.cycle("delta")
    assert set(d.groups()) == {"Partners - Project X"}
    assert d.members("Partners - Project X") == {d.upn("ann"), d.upn("zoe")}
    assert exported(d.cycle("delta")) == {"add": 0, "update": 0, "delete": 0}
