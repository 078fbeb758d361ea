"""Outbound rules to the AD connector, through the engine, on the session's Samba DC.

An LDIF source (an HR system) provisions users into an AD OU: created with their
attributes, updated, disabled, renamed, deleted; each export confirmed by the next
import (no duplicate, and a second cycle changes nothing). The deletion threshold and
staging mode hold for AD as for any target.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ldap
import pytest
from tests.support.samba import SambaDC, ad_connector_toml

from hybridsync.engine import Status
from hybridsync.wiring import Built, build_from_file

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"

RULES = """
[[rule]]
name = "In from HR - Person"
direction = "inbound"
connector = "hr"
source_object_type = "user"
target_object_type = "person"
link_type = "Provision"
precedence = 10

[[rule.flow]]
target = "accountName"
type = "Direct"
source = "sAMAccountName"

[[rule.flow]]
target = "displayName"
type = "Direct"
source = "displayName"

[[rule.flow]]
target = "title"
type = "Direct"
source = "title"

[[rule.flow]]
target = "disabled"
type = "Expression"
expression = 'IIF(BitAnd([userAccountControl], 2) = 0, False, True)'

[[rule]]
name = "Out to AD - User"
direction = "outbound"
connector = "ad"
source_object_type = "person"
target_object_type = "user"
link_type = "Provision"
precedence = 10

[[rule.flow]]
target = "dn"
type = "Expression"
expression = '"CN=" & [displayName] & "," & %ExportOU%'

[[rule.flow]]
target = "sAMAccountName"
type = "Direct"
source = "accountName"

[[rule.flow]]
target = "displayName"
type = "Direct"
source = "displayName"

[[rule.flow]]
target = "title"
type = "Direct"
source = "title"

[[rule.flow]]
target = "accountDisabled"
type = "Direct"
source = "disabled"
"""


GROUP_RULES = """
[[rule]]
name = "In from HR - Group"
direction = "inbound"
connector = "hr"
source_object_type = "group"
target_object_type = "group"
link_type = "Provision"
precedence = 20

[[rule.flow]]
target = "accountName"
type = "Direct"
source = "sAMAccountName"

[[rule.flow]]
target = "member"
type = "Direct"
source = "member"

[[rule]]
name = "Out to AD - Group"
direction = "outbound"
connector = "ad"
source_object_type = "group"
target_object_type = "group"
link_type = "Provision"
precedence = 20

[[rule.flow]]
target = "dn"
type = "Expression"
expression = '"CN=" & [accountName] & "," & %ExportOU%'

[[rule.flow]]
target = "sAMAccountName"
type = "Direct"
source = "accountName"

[[rule.flow]]
target = "member"
type = "Direct"
source = "member"
"""


class Deployment:
    """An HR LDIF file, the AD OU it provisions into, and the engine between them."""

    def __init__(self, root: Path, dc: SambaDC, ou: str, sam_suffix: str, extra: str = "") -> None:
        self.root, self.dc, self.ou, self.suffix = root, dc, ou, sam_suffix
        self.people: dict[str, str] = {}
        (root / "rules.toml").write_text(RULES + GROUP_RULES, "utf-8")
        ad = ad_connector_toml(dc, PASSWORD_ENV, [ou])
        (root / "hybridsync.toml").write_text(
            f'store = "state.db"\nrules = ["rules.toml"]\n{extra}\n'
            f'[[connectors]]\ntype = "ldif"\nname = "hr"\npath = "hr.ldif"\n'
            f'object_types = ["user", "group"]\n'
            f'{ad}\nexport_ou = "{ou}"\nattributes = ["title", "accountDisabled"]\n',
            "utf-8",
        )
        self.built: Built | None = None

    def sam(self, name: str) -> str:
        return f"{name}{self.suffix}"

    def put(self, name: str, *, display: str | None = None, title: str = "Staff",
            disabled: bool = False) -> None:  # fmt: skip
        guid = base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, name).bytes_le).decode()
        self.people[name] = "\n".join([
            f"dn: CN={name},OU=People,DC=hr,DC=example", f"objectGUID:: {guid}",
            "objectClass: user", f"sAMAccountName: {self.sam(name)}",
            f"displayName: {display or name.title()}", f"title: {title}",
            f"userAccountControl: {514 if disabled else 512}",
        ]) + "\n"  # fmt: skip
        self._write()

    def put_group(self, name: str, members: list[str]) -> None:
        guid = base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, name).bytes_le).decode()
        self.people[name] = "\n".join([
            f"dn: CN={name},OU=Groups,DC=hr,DC=example", f"objectGUID:: {guid}",
            "objectClass: group", f"sAMAccountName: {self.sam(name)}",
            *(f"member: CN={m},OU=People,DC=hr,DC=example" for m in members),
        ]) + "\n"  # fmt: skip
        self._write()

    def members_in_ad(self, name: str) -> list[str]:
        found = self.dc.search(f"CN={self.sam(name)},{self.ou}", attributes=["member"])
        return sorted(dn.decode().split(",")[0] for dn in found[0][1].get("member", []))

    def remove(self, name: str) -> None:
        del self.people[name]
        self._write()

    def _write(self) -> None:
        text = "version: 1\n\n" + "\n".join(self.people.values())
        (self.root / "hr.ldif").write_text(text, "utf-8")

    def cycle(self, kind: str = "delta", **options: Any) -> Any:
        if self.built is None:
            self.built = build_from_file(self.root / "hybridsync.toml")
        report = self.built.engine.cycle(kind, **options)
        errors = [f"{e.dn}: {e.message}" for run in report.runs for e in run.errors]
        self.errors = errors
        return report

    def in_ad(self) -> dict[str, dict[str, list[bytes]]]:
        """The users in the OU by sAMAccountName."""
        found = self.dc.search(self.ou, "(objectClass=user)", scope=ldap.SCOPE_SUBTREE,
                               attributes=["sAMAccountName", "title", "userAccountControl",
                                           "displayName"])  # fmt: skip
        found_by_sam = {attrs["sAMAccountName"][0].decode(): {"dn": [dn.encode()], **attrs}
                        for dn, attrs in found}  # fmt: skip
        return found_by_sam

    def close(self) -> None:
        if self.built is not None:
            self.built.close()


def exported(report: Any) -> dict[str, int]:
    counts = [run.counts for run in report.runs if run.profile.value == "export"]
    return {k: sum(c.get(k, 0) for c in counts) for k in ("add", "update", "delete", "rejected")}


@pytest.fixture
def deployment(
    samba_dc: SambaDC, tmp_path: Path, ou: str, n: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)
    made: list[Deployment] = []

    def make(extra: str = "") -> Deployment:
        made.append(Deployment(tmp_path, samba_dc, ou, n(""), extra))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_hr_users_are_provisioned_updated_renamed_disabled_and_deleted_in_ad(
    deployment: Any,
) -> None:
    hr: Deployment = deployment()
    hr.put("ann", title="Engineer")
    hr.put("bob", disabled=True)
    hr.put("cy")
    first = hr.cycle("initial")
    assert hr.errors == []
    assert exported(first) == {"add": 3, "update": 0, "delete": 0, "rejected": 0}
    users = hr.in_ad()
    assert sorted(users) == sorted(hr.sam(x) for x in ("ann", "bob", "cy"))
    assert users[hr.sam("ann")]["title"] == [b"Engineer"]
    assert int(users[hr.sam("bob")]["userAccountControl"][0]) & 2
    assert not int(users[hr.sam("ann")]["userAccountControl"][0]) & 2
    # The next cycle imports what was written: confirmed, no duplicate, nothing to send.
    assert exported(hr.cycle()) == {"add": 0, "update": 0, "delete": 0, "rejected": 0}
    assert hr.errors == []
    assert exported(hr.cycle()) == {"add": 0, "update": 0, "delete": 0, "rejected": 0}

    hr.put("ann", title="Lead", display="Ann Lee")  # a new title, and a new DN (rename)
    hr.put("bob", disabled=False)
    changed = hr.cycle()
    assert hr.errors == []
    assert exported(changed)["update"] == 2
    users = hr.in_ad()
    assert users[hr.sam("ann")]["dn"] == [f"CN=Ann Lee,{hr.ou}".encode()]
    assert users[hr.sam("ann")]["title"] == [b"Lead"]
    assert not int(users[hr.sam("bob")]["userAccountControl"][0]) & 2
    assert exported(hr.cycle()) == {"add": 0, "update": 0, "delete": 0, "rejected": 0}

    hr.remove("cy")
    assert exported(hr.cycle())["delete"] == 1
    assert sorted(hr.in_ad()) == sorted(hr.sam(x) for x in ("ann", "bob"))
    assert exported(hr.cycle()) == {"add": 0, "update": 0, "delete": 0, "rejected": 0}


def test_a_refused_add_is_an_object_error_and_the_run_goes_on(
    deployment: Any, samba_dc: SambaDC, ou: str
) -> None:
    hr: Deployment = deployment()
    samba_dc.add_user(hr.sam("dup"), ou_dn=ou, cn="Made by hand")
    hr.put("dup")
    hr.put("fine")
    report = hr.cycle("initial")
    assert exported(report)["add"] == 1
    assert exported(report)["rejected"] == 1
    (error,) = hr.errors
    assert error.startswith(f"CN=Dup,{ou}: ")
    assert "sAMAccountName" in error
    assert hr.sam("fine") in hr.in_ad()


def test_the_deletion_threshold_and_staging_mode_hold_for_ad(
    deployment: Any, tmp_path: Path
) -> None:
    hr: Deployment = deployment("[safety]\ndeletion_threshold = 1\n")
    for name in ("d1", "d2", "d3"):
        hr.put(name)
    hr.cycle("initial")
    assert len(hr.in_ad()) == 3
    hr.remove("d1")
    hr.remove("d2")
    report = hr.cycle()
    export = [run for run in report.runs if run.profile.value == "export"]
    assert [run.status for run in export] == [Status.STOPPED_DELETION_THRESHOLD]
    assert len(hr.in_ad()) == 3  # nothing deleted
    report = hr.cycle(allow_deletes=True)
    assert exported(report)["delete"] == 2
    assert len(hr.in_ad()) == 1

    hr.close()
    config = tmp_path / "hybridsync.toml"
    config.write_text("staging_mode = true\n" + config.read_text("utf-8"), "utf-8")
    hr.built = None
    hr.put("staged")
    report = hr.cycle()
    assert [run for run in report.runs if run.profile.value == "export"] == []
    assert hr.sam("staged") not in hr.in_ad()
    hr.close()  # leaving staging mode: the pending add is exported
    config.write_text(config.read_text("utf-8").replace("staging_mode = true\n", ""), "utf-8")
    hr.built = None
    assert exported(hr.cycle())["add"] == 1
    assert hr.sam("staged") in hr.in_ad()


def test_hr_groups_reach_ad_with_their_members_and_only_changes_are_sent(
    deployment: Any,
) -> None:
    hr: Deployment = deployment()
    for name in ("gm1", "gm2", "gm3"):
        hr.put(name)
    hr.put_group("team", ["gm1", "gm2"])
    first = hr.cycle("initial")
    assert hr.errors == []
    assert exported(first)["add"] == 4
    assert hr.members_in_ad("team") == ["CN=Gm1", "CN=Gm2"]
    assert exported(hr.cycle()) == {"add": 0, "update": 0, "delete": 0, "rejected": 0}
    hr.put_group("team", ["gm2", "gm3"])
    changed = hr.cycle()
    assert hr.errors == []
    assert exported(changed)["update"] == 1
    assert hr.members_in_ad("team") == ["CN=Gm2", "CN=Gm3"]
    assert exported(hr.cycle()) == {"add": 0, "update": 0, "delete": 0, "rejected": 0}
