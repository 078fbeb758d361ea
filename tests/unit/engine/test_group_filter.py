"""``[filter] group``: only the direct members of one AD group are synced (LDIF source,
recording target). Joining is entering scope, leaving is a delete; a missing filtering
group stops the sync instead of taking everything out of scope."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hybridsync.cli import app
from hybridsync.config import load_config
from hybridsync.config.group_filter import rule_name
from hybridsync.config.problems import ConfigProblems
from hybridsync.engine import Status
from hybridsync.errors import ConfigError
from hybridsync.wiring import Built

GROUPS = "OU=Groups,DC=contoso,DC=com"
PILOT = f"CN=Pilot,{GROUPS}"


def user_dn(sam: str) -> str:
    return f"CN={sam},OU=Staff,DC=contoso,DC=com"


def group_dn(name: str) -> str:
    return f"CN={name},{GROUPS}"


def ldif_group(name: str, *members: str) -> str:
    guid = uuid.uuid5(uuid.NAMESPACE_DNS, "group-" + name).bytes_le
    lines = [
        f"dn: {group_dn(name)}",
        "objectGUID:: " + base64.b64encode(guid).decode(),
        "objectClass: top",
        "objectClass: group",
        f"cn: {name}",
        f"sAMAccountName: {name}",
        "groupType: -2147483646",
        *(f"member: {member}" for member in members),
    ]
    return "\n".join(lines) + "\n"


def engine(world: Any, group: str = PILOT, **settings: Any) -> Built:
    built: Built = world.engine(
        connectors=[
            {"type": "ldif", "name": "ad", "path": str(world.ldif),
             "object_types": ["user", "group"]},
            {"type": "recording", "name": "cloud", "path": str(world.tmp / "cloud.db"),
             "object_types": ["user", "group"]},
        ],
        filter={"group": group},
        **settings,
    )  # fmt: skip
    return built


def in_cloud(world: Any, built: Built) -> set[str]:
    """Users by sAMAccountName, groups by name."""
    names = set()
    for obj in world.cloud(built).objects().values():
        upn = obj.attributes.get("userPrincipalName")
        names.add(str(upn[0]).split("@")[0] if upn else str(obj.attributes["displayName"][0]))
    return names


def test_only_direct_members_users_and_groups_are_synced(world: Any) -> None:
    world.set_users(
        world.user("ann"), world.user("bob"), world.user("cid"),
        ldif_group("Pilot", user_dn("ann"), group_dn("Nested")),
        ldif_group("Nested", user_dn("cid")),
        ldif_group("Other", user_dn("ann"), user_dn("bob")),
    )  # fmt: skip
    built = engine(world)
    assert built.engine.cycle("initial").status == Status.SUCCESS
    # cid is in a member group only; the filtering group is not its own member; Other
    # is no member of Pilot: as Entra Connect, direct members only.
    assert in_cloud(world, built) == {"ann", "Nested"}


def test_joining_enters_scope_and_leaving_deletes_in_the_cloud(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob"), ldif_group("Pilot", user_dn("ann")))
    built = engine(world)
    built.engine.cycle("initial")
    assert in_cloud(world, built) == {"ann"}
    world.put(ldif_group("Pilot", user_dn("ann"), user_dn("bob")))
    assert built.engine.cycle("delta").status == Status.SUCCESS
    assert in_cloud(world, built) == {"ann", "bob"}
    world.put(ldif_group("Pilot", user_dn("bob")))
    cycle = built.engine.cycle("delta")
    assert cycle.status == Status.SUCCESS
    export = [r for r in cycle.runs if r.profile.value == "export"]
    assert sum(r.counts.get("delete", 0) for r in export) == 1
    assert in_cloud(world, built) == {"bob"}


def test_leaving_the_group_is_counted_by_the_deletion_threshold(world: Any) -> None:
    users = [f"u{i}" for i in range(6)]
    world.set_users(
        *(world.user(u) for u in users), ldif_group("Pilot", *(user_dn(u) for u in users))
    )
    built = engine(world, safety={"deletion_threshold": 3})
    built.engine.cycle("initial")
    assert in_cloud(world, built) == set(users)
    # An attacker (or a mistake) empties the pilot group: 6 deletes, over the threshold.
    world.put(ldif_group("Pilot"))
    cycle = built.engine.cycle("delta")
    assert cycle.status == Status.STOPPED_DELETION_THRESHOLD
    assert in_cloud(world, built) == set(users)


@pytest.mark.parametrize("how", ["deleted", "misspelled"])
def test_a_missing_filter_group_stops_the_sync_and_deletes_nothing(world: Any, how: str) -> None:
    world.set_users(
        world.user("ann"), world.user("bob"), ldif_group("Pilot", user_dn("ann"), user_dn("bob"))
    )
    built = engine(world)
    built.engine.cycle("initial")
    assert in_cloud(world, built) == {"ann", "bob"}
    built.close()
    if how == "deleted":
        world.remove("Pilot")
        built = engine(world, safety={"import_guard_min_objects": 100})
    else:
        built = engine(world, group=f"CN=Pilot Typo,{GROUPS}")
    cycle = built.engine.cycle("initial")
    assert cycle.status == Status.STOPPED_FILTER_GROUP_MISSING
    stopped = [r for r in cycle.runs if r.status == Status.STOPPED_FILTER_GROUP_MISSING]
    assert "[filter] group" in stopped[0].message
    assert "holds no such group" in stopped[0].message
    assert in_cloud(world, built) == {"ann", "bob"}  # nothing deleted


def test_the_first_cycle_with_a_wrong_group_syncs_nothing(world: Any) -> None:
    world.set_users(world.user("ann"))
    built = engine(world, group=f"CN=Nowhere,{GROUPS}")
    cycle = built.engine.cycle("initial")
    assert cycle.status == Status.STOPPED_FILTER_GROUP_MISSING
    assert in_cloud(world, built) == set()


def test_the_rules_are_generated_below_the_builtin_ones(world: Any) -> None:
    world.set_users(world.user("ann"), ldif_group("Pilot", user_dn("ann")))
    built = engine(world)
    rules = {rule.name: rule for rule in built.engine.context.rules.rules}
    for kind in ("user", "group"):
        rule = rules[rule_name(kind)]
        assert rule.precedence < rules["In from AD - User Join"].precedence
        (group,) = rule.scope
        (clause,) = group.clauses
        assert (clause.operator.value, clause.value) == ("ISNOTMEMBEROF", PILOT)


CONFIG = """
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[filter]
group = {group}
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
[[connectors]]
type = "recording"
name = "cloud"
path = "cloud.db"
"""


@pytest.mark.parametrize(
    "group", ['"Pilot"', '""', '"CN=Pilot,OU=Groups,,DC=contoso"', '"CN=,DC=contoso"', "42"]
)
def test_a_group_that_is_not_a_dn_is_a_config_error_naming_the_setting(
    tmp_path: Path, group: str
) -> None:
    path = tmp_path / "hybridsync.toml"
    path.write_text(CONFIG.replace("{group}", group), "utf-8")
    with pytest.raises(ConfigProblems) as caught:
        load_config(path)
    text = str(caught.value)
    assert "filter.group" in text
    assert "hybridsync.toml" in text
    assert ":7" in text  # the line of the setting


def test_an_escaped_comma_in_the_dn_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "hybridsync.toml"
    dn = r"CN=Partners\\, Project X,OU=Groups,DC=contoso,DC=com"
    path.write_text(CONFIG.replace("{group}", f'"{dn}"'), "utf-8")
    assert load_config(path).filter.group == dn.replace("\\\\", "\\")


def test_the_filter_needs_the_builtin_rules(tmp_path: Path) -> None:
    path = tmp_path / "hybridsync.toml"
    text = CONFIG.replace("{group}", f'"{PILOT}"')
    text = text.replace('[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n', "")
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=r"\[filter\] group needs \[builtin_rules\]"):
        load_config(path).rule_set()


def test_run_exits_2_naming_the_setting_when_the_group_is_missing(tmp_path: Path) -> None:
    (tmp_path / "ad.ldif").write_text(
        "version: 1\n\n" + ldif_group("Other", user_dn("ann")), encoding="utf-8"
    )
    path = tmp_path / "hybridsync.toml"
    path.write_text(CONFIG.replace("{group}", f'"{PILOT}"'), "utf-8")
    result = CliRunner().invoke(app, ["run", "initial", "--config", str(path), "--json"])
    assert result.exit_code == 2, result.output
    stopped = [r for r in json.loads(result.output)["runs"] if r["status"].startswith("stopped")]
    assert stopped[0]["status"] == "stopped-filter-group-missing"
    assert f"[filter] group = '{PILOT}'" in stopped[0]["message"]


def test_a_dn_with_spaces_after_the_commas_is_accepted_in_one_form(tmp_path: Path) -> None:
    path = tmp_path / "hybridsync.toml"
    path.write_text(CONFIG.replace("{group}", '"CN=Pilot, OU=Groups, DC=corp"'), "utf-8")
    assert load_config(path).filter.group == "CN=Pilot,OU=Groups,DC=corp"


def test_a_source_that_imports_no_groups_is_a_config_error_before_any_run(tmp_path: Path) -> None:
    path = tmp_path / "hybridsync.toml"
    text = CONFIG.replace("{group}", f'"{PILOT}"')
    text = text.replace('name = "ad"\n', 'name = "ad"\nobject_types = ["user"]\n')
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=r"connector 'ad' to import groups.*object_types"):
        load_config(path).rule_set()
