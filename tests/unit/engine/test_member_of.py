"""ISMEMBEROF / ISNOTMEMBEROF scoping on small LDIF directories (users and groups)."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.support.rules import PILOT_RULE
from typer.testing import CliRunner

from hybridsync.cli import app
from hybridsync.config.rules import RuleSource, load_rules
from hybridsync.config.settings import builtin_rule_source
from hybridsync.core.objects import CSObject, MVObject
from hybridsync.core.password_hash_sync.targets import password_sync_targets
from hybridsync.engine import Profile, Status
from hybridsync.errors import ConfigError
from hybridsync.wiring import Built

GROUPS = "OU=Groups,DC=contoso,DC=com"
PILOT = f"CN=Pilot,{GROUPS}"


def user_dn(sam: str) -> str:
    return f"CN={sam},OU=Staff,DC=contoso,DC=com"


def ldif_group(name: str, *members: str) -> str:
    guid = uuid.uuid5(uuid.NAMESPACE_DNS, "group-" + name).bytes_le
    lines = [
        f"dn: CN={name},{GROUPS}",
        "objectGUID:: " + base64.b64encode(guid).decode(),
        "objectClass: top",
        "objectClass: group",
        f"cn: {name}",
        f"sAMAccountName: {name}",
        *(f"member: {member}" for member in members),
    ]
    return "\n".join(lines) + "\n"


def engine(world: Any, group_dn: str = PILOT, **settings: Any) -> Built:
    rule_file = world.tmp / "pilot.toml"
    rule_file.write_text(PILOT_RULE % group_dn, encoding="utf-8")
    return world.engine(  # type: ignore[no-any-return]
        rules=[str(rule_file)],
        connectors=[
            {
                "type": "ldif",
                "name": "ad",
                "path": str(world.ldif),
                "object_types": ["user", "group"],
            },
            {"type": "recording", "name": "cloud", "path": str(world.tmp / "cloud.db")},
        ],
        **settings,
    )


def in_cloud(world: Any, built: Built) -> set[str]:
    return {upn.split("@")[0] for upn in world.by_upn(built)}


def test_only_direct_members_are_in_scope(world: Any) -> None:
    world.set_users(
        world.user("ann"), world.user("bob"), world.user("cid"),
        ldif_group("Pilot", user_dn("ann"), f"CN=Nested,{GROUPS}"),
        ldif_group("Nested", user_dn("cid")),
    )  # fmt: skip
    built = engine(world)
    assert built.engine.cycle("initial").status == Status.SUCCESS
    # cid is a member of a member group only: direct membership, as Entra Connect.
    assert in_cloud(world, built) == {"ann"}


def test_a_delta_cycle_follows_membership_changes(world: Any) -> None:
    world.set_users(
        world.user("ann"), world.user("bob"), world.user("cid"),
        ldif_group("Pilot", user_dn("ann")),
    )  # fmt: skip
    built = engine(world)
    built.engine.cycle("initial")
    assert in_cloud(world, built) == {"ann"}

    # Only the group changes: bob joins; ann leaves.
    world.put(ldif_group("Pilot", user_dn("bob")))
    cycle = built.engine.cycle("delta")
    assert cycle.status == Status.SUCCESS
    (ad_import,) = [r for r in cycle.runs if r.connector == "ad" and "import" in r.profile.value]
    assert ad_import.profile is Profile.DELTA_IMPORT
    assert ad_import.counts["membership-changed"] == 2  # ann and bob, not cid
    assert in_cloud(world, built) == {"bob"}

    # Nothing changed: nothing is marked, nothing is exported.
    quiet = built.engine.cycle("delta")
    assert all("membership-changed" not in r.counts for r in quiet.runs)
    assert all(not r.counts.get("update") and not r.counts.get("add") for r in quiet.runs)


def test_a_deleted_group_takes_its_members_out_of_scope(world: Any) -> None:
    world.set_users(world.user("ann"), ldif_group("Pilot", user_dn("ann")))
    built = engine(world, safety={"import_guard_min_objects": 100})
    built.engine.cycle("initial")
    assert in_cloud(world, built) == {"ann"}
    world.remove("Pilot")
    assert built.engine.cycle("delta").status == Status.SUCCESS
    assert in_cloud(world, built) == set()


def test_the_group_dn_may_differ_in_case(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob"), ldif_group("Pilot", user_dn("ann")))
    built = engine(world, group_dn=PILOT.lower())
    built.engine.cycle("initial")
    assert in_cloud(world, built) == {"ann"}


def test_a_group_not_in_the_connector_space_has_no_members_and_says_so(world: Any) -> None:
    world.set_users(world.user("ann"))
    built = engine(world, group_dn=f"CN=Missing,{GROUPS}")
    cycle = built.engine.cycle("initial")
    assert in_cloud(world, built) == set()
    notes = [note for run in cycle.runs for note in run.notes]
    assert any("holds no group 'CN=Missing," in note for note in notes)


def test_groups_are_read_once_per_sync_run_not_per_object(world: Any) -> None:
    users = [world.user(f"u{i:02}") for i in range(30)]
    world.set_users(*users, ldif_group("Pilot", *(user_dn(f"u{i:02}") for i in range(0, 30, 3))))
    built = engine(world, safety={"batch_size": 7})
    store = built.store
    reads: list[str] = []
    original = store.cs_by_dn

    def counting(connector: str, dn: str) -> Any:
        reads.append(dn)
        return original(connector, dn)

    store.cs_by_dn = counting  # type: ignore[method-assign]
    built.engine.cycle("initial")
    assert len(in_cloud(world, built)) == 10
    assert reads.count(PILOT) == 1


def test_preview_shows_the_membership_decision(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob"), ldif_group("Pilot", user_dn("ann")))
    built = engine(world)
    built.engine.cycle("initial")
    shown = built.engine.preview("ad", user_dn("bob"))
    assert shown["membership"] == [{"group": PILOT, "group_found": True, "member": False}]
    assert "In from AD - Pilot only" in shown["rules_in_scope"]
    assert built.engine.preview("ad", user_dn("ann"))["membership"][0]["member"] is True


def test_the_connector_imports_member_for_membership_clauses(tmp_path: Path) -> None:
    rules = load_rules([RuleSource("pilot.toml", PILOT_RULE % PILOT)])
    read = rules.source_attributes("ad")
    assert "member" in read
    assert "memberOf" not in read  # the clause's attribute is not what it reads
    assert rules.membership_groups("ad") == {PILOT}


def test_membership_in_an_outbound_rule_is_a_config_error(tmp_path: Path) -> None:
    text = (PILOT_RULE % PILOT).replace('"inbound"', '"outbound"').replace('"ad"', '"cloud"')
    with pytest.raises(ConfigError, match=r"ISNOTMEMBEROF .* inbound rules only") as caught:
        load_rules([RuleSource("pilot.toml", text)])
    assert "In from AD - Pilot only" in str(caught.value)


def test_password_hash_sync_scope_asks_the_membership() -> None:
    pilot_sync = PILOT_RULE % PILOT
    pilot_sync = pilot_sync.replace("precedence = 50", "precedence = 50\npassword_sync = true")
    pilot_sync = pilot_sync.replace("ISNOTMEMBEROF", "ISMEMBEROF")
    rules = load_rules([builtin_rule_source("ad", "cloud"), RuleSource("pilot.toml", pilot_sync)])
    # Disabled accounts: the built-in AccountEnabled rule does not flag them, the pilot rule may.
    sources = [
        CSObject(f"ad-{n}", "ad", n, user_dn(n), "user", {"userAccountControl": (514,)},
                 mv_id=f"mv-{n}")
        for n in ("ann", "bob")
    ]  # fmt: skip
    metaverse = {f"mv-{n}": MVObject(f"mv-{n}", "person") for n in ("ann", "bob")}
    linked = {
        f"mv-{n}": [CSObject(f"cl-{n}", "cloud", f"cloud-{n}", "", "user", mv_id=f"mv-{n}")]
        for n in ("ann", "bob")
    }

    def member_of(cs: CSObject) -> Any:
        return lambda group: group == PILOT and cs.dn == user_dn("ann")

    args = (rules, "ad", "cloud", sources, metaverse, linked)
    assert password_sync_targets(*args) == {}
    assert password_sync_targets(*args, member_of) == {"ann": "cloud-ann"}


def test_the_preview_command_prints_the_membership_decision(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob"), ldif_group("Pilot", user_dn("ann")))
    engine(world).close()
    (world.tmp / "pilot.toml").write_text(PILOT_RULE % PILOT, encoding="utf-8")
    config = world.tmp / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"
rules = ["pilot.toml"]

[builtin_rules]
source = "ad"
target = "cloud"

[[connectors]]
type = "ldif"
name = "ad"
path = "{world.ldif}"
object_types = ["user", "group"]

[[connectors]]
type = "recording"
name = "cloud"
path = "cloud.db"
""",
        encoding="utf-8",
    )
    runner = CliRunner()
    assert runner.invoke(app, ["run", "initial", "--config", str(config)]).exit_code == 0
    shown = runner.invoke(app, ["preview", user_dn("bob"), "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    assert f"member of {PILOT}: no" in shown.output
    shown = runner.invoke(app, ["preview", "ann@contoso.com", "--config", str(config)])
    assert f"member of {PILOT}: yes" in shown.output
