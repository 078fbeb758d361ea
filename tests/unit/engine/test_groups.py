"""Groups through the engine with the built-in rules: an AD group and its members, from
LDIF to a recording target, the members as references to the members' cloud objects."""

from __future__ import annotations

import base64
import struct
import uuid
from typing import Any

import pytest

from hybridsync.config import Config
from hybridsync.config.rules import load_rules
from hybridsync.config.settings import builtin_rule_source
from hybridsync.core.runs import Status
from hybridsync.core.values import Reference
from hybridsync.engine import Profile
from hybridsync.errors import ExpressionUserError
from hybridsync.wiring import Built, build

SECURITY_GLOBAL = -2147483646  # groupType: a global security group
DISTRIBUTION = 2  # groupType: a global distribution group


def _sid(rid: int) -> str:
    """objectSid (base64) of S-1-5-21-1-2-3-<rid>."""
    parts = (21, 1, 2, 3, rid)
    raw = bytes([1, len(parts)]) + (5).to_bytes(6, "big") + struct.pack("<5I", *parts)
    return base64.b64encode(raw).decode()


def ldif_group(
    cn: str,
    members: list[str],
    *,
    group_type: int = SECURITY_GLOBAL,
    rid: int = 1100,
    **attributes: Any,
) -> str:
    dn = f"CN={cn},OU=Groups,DC=contoso,DC=com"
    guid = uuid.uuid5(uuid.NAMESPACE_DNS, "group-" + cn).bytes_le
    lines = [
        f"dn: {dn}",
        "objectGUID:: " + base64.b64encode(guid).decode(),
        "objectSid:: " + _sid(rid),
        "objectClass: top",
        "objectClass: group",
        f"cn: {cn}",
        f"sAMAccountName: {cn.replace(' ', '')}",
        f"groupType: {group_type}",
        f"distinguishedName: {dn}",
    ]
    lines += [f"member: {member}" for member in members]
    for name, value in attributes.items():
        lines += [f"{name}: {item}" for item in (value if isinstance(value, list) else [value])]
    return "\n".join(lines) + "\n"


def user_dn(sam: str) -> str:
    return f"CN={sam},OU=Staff,DC=contoso,DC=com"


def group_dn(cn: str) -> str:
    return f"CN={cn},OU=Groups,DC=contoso,DC=com"


def _engine(world: Any, **overrides: Any) -> Built:
    data: dict[str, Any] = {
        "store": world.store.config,
        "builtin_rules": {"source": "ad", "target": "cloud"},
        "connectors": [
            {
                "type": "ldif",
                "name": "ad",
                "path": str(world.ldif),
                "object_types": ["user", "group"],
            },
            {
                "type": "recording",
                "name": "cloud",
                "path": str(world.tmp / "cloud.db"),
                "object_types": ["user", "group"],
                "multi_valued": ["proxyAddresses", "members"],
            },
        ],
        "base_dir": str(world.tmp),
        **overrides,
    }
    built = build(Config.model_validate(data), store=world.store.memory)
    world.built.append(built)
    return built


def _cloud(world: Any, built: Built) -> dict[str, Any]:
    """Recorded cloud objects by displayName (users by UPN)."""
    objects: dict[str, Any] = {}
    for obj in world.cloud(built).objects().values():
        key = obj.attributes.get("userPrincipalName") or obj.attributes.get("displayName")
        objects[str(key[0])] = obj
    return objects


def _members(world: Any, built: Built, group: str) -> set[str]:
    cloud = _cloud(world, built)
    names = {obj.anchor: name for name, obj in cloud.items()}
    values = cloud[group].attributes.get("members", ())
    assert all(type(value) is Reference for value in values)
    return {names[str(value)] for value in values}


def _partners(world: Any, *extra: str) -> None:
    world.set_users(
        world.user("ann"),
        world.user("bob"),
        world.user("eve"),
        ldif_group("Partners Inner", [user_dn("eve")], rid=1101),
        ldif_group(
            "Partners", [user_dn("ann"), user_dn("bob"), group_dn("Partners Inner")], rid=1102
        ),
        *extra,
    )


def test_a_group_reaches_the_metaverse_and_the_cloud_with_its_members(world: Any) -> None:
    _partners(world)
    built = _engine(world)
    built.engine.cycle("initial")
    store = built.store
    cs = store.cs_by_dn("ad", group_dn("Partners"))
    assert cs is not None
    assert cs.mv_id is not None
    mv = store.get_mv(cs.mv_id)
    assert mv is not None
    assert mv.object_type == "group"
    assert mv.attributes["securityEnabled"] == (True,)
    assert mv.attributes["onPremisesSecurityIdentifier"] == ("S-1-5-21-1-2-3-1102",)
    assert len(mv.attributes["member"]) == 3
    assert _members(world, built, "Partners") == {
        "ann@contoso.com",
        "bob@contoso.com",
        "Partners Inner",
    }
    assert _members(world, built, "Partners Inner") == {"eve@contoso.com"}
    partners = _cloud(world, built)["Partners"]
    assert partners.object_type == "group"
    assert partners.attributes["mailNickname"] == ("Partners",)
    assert partners.attributes["mailEnabled"] == (False,)
    # The next cycles confirm everything: nothing more is sent.
    built.engine.cycle("delta")
    sent = len(world.cloud(built).sent)
    built.engine.cycle("delta")
    assert len(world.cloud(built).sent) == sent


def test_a_removed_member_leaves_the_cloud_group(world: Any) -> None:
    _partners(world)
    built = _engine(world)
    built.engine.cycle("initial")
    world.put(ldif_group("Partners", [user_dn("ann"), group_dn("Partners Inner")], rid=1102))
    built.engine.cycle("delta")
    assert _members(world, built, "Partners") == {"ann@contoso.com", "Partners Inner"}
    change = world.cloud(built).sent[-1]
    assert change.kind.value == "update"
    assert [item.name for item in change.changes] == ["members"]
    # Beside the new members, the connector gets those the target holds (imported by
    # the delta import that confirmed the first export): it sends only the difference.
    cloud = _cloud(world, built)
    ids = {name: Reference(obj.anchor) for name, obj in cloud.items()}
    (members,) = change.changes
    assert set(members.values) == {ids["ann@contoso.com"], ids["Partners Inner"]}
    assert set(change.previous["members"]) == {
        ids["ann@contoso.com"],
        ids["bob@contoso.com"],
        ids["Partners Inner"],
    }


def test_members_sent_and_not_yet_confirmed_are_what_the_target_holds(world: Any) -> None:
    _partners(world)
    built = _engine(world)
    built.engine.cycle("initial")  # imports nothing back from the target after its export
    cs = built.store.cs_by_dn("ad", group_dn("Partners"))
    assert cs is not None
    target = next(
        t for t in built.store.get_cs_many(built.store.cs_ids("cloud"))
        if t.mv_id == cs.mv_id
    )  # fmt: skip
    assert "members" not in target.attributes  # no import has confirmed them
    world.put(ldif_group("Partners", [user_dn("ann")], rid=1102))
    built.engine.run("ad", Profile.DELTA_IMPORT)
    built.engine.run("ad", Profile.DELTA_SYNC)
    built.engine.run("cloud", Profile.EXPORT)
    change = world.cloud(built).sent[-1]
    assert change.previous["members"] == target.unconfirmed["members"]
    assert len(change.previous["members"]) == 3


def test_critical_system_and_distribution_groups_stay_out(world: Any) -> None:
    _partners(
        world,
        ldif_group("Domain Admins", [user_dn("ann")], rid=512, isCriticalSystemObject="TRUE"),
        ldif_group("Newsletter", [user_dn("bob")], group_type=DISTRIBUTION, rid=1200),
        ldif_group(
            "Sales", [user_dn("bob")], group_type=DISTRIBUTION, rid=1201, mail="sales@contoso.com"
        ),
    )
    built = _engine(world)
    built.engine.cycle("initial")
    cloud = _cloud(world, built)
    assert "Domain Admins" not in cloud
    assert "Newsletter" not in cloud  # neither security nor mail-enabled
    assert cloud["Sales"].attributes["mailEnabled"] == (True,)
    assert cloud["Sales"].attributes["securityEnabled"] == (False,)


def test_a_deleted_group_is_deleted_in_the_cloud(world: Any) -> None:
    _partners(world)
    built = _engine(world)
    built.engine.cycle("initial")
    world.users = {k: v for k, v in world.users.items() if "CN=Partners Inner," not in k}
    world.write()
    built.engine.cycle("delta")
    cloud = _cloud(world, built)
    assert "Partners Inner" not in cloud
    assert _members(world, built, "Partners") == {"ann@contoso.com", "bob@contoso.com"}


def _members_flow() -> Any:
    rules = load_rules([builtin_rule_source("ad", "cloud")])
    rule = next(r for r in rules.rules if r.name == "Out to Cloud - Group Identity")
    return next(flow for flow in rule.flows if flow.target == "members")


def test_a_group_of_more_than_50000_members_is_an_error_as_in_microsofts_rule() -> None:
    flow = _members_flow()
    assert flow.expression is not None
    at_limit = tuple(Reference(f"mv-{n}") for n in range(50_000))
    assert tuple(flow.expression.evaluate({"member": at_limit})) == at_limit
    with pytest.raises(ExpressionUserError, match="Maximum Group member count exceeded"):
        flow.expression.evaluate({"member": (*at_limit, Reference("mv-one-more"))})


def test_a_group_without_members_has_none_in_the_cloud(world: Any) -> None:
    _partners(world, ldif_group("Empty", [], rid=1300))
    built = _engine(world)
    built.engine.cycle("initial")
    assert _members(world, built, "Empty") == set()
    built.engine.cycle("delta")
    sent = len(world.cloud(built).sent)
    built.engine.cycle("delta")
    assert len(world.cloud(built).sent) == sent


def test_deleted_groups_count_against_the_deletion_threshold(world: Any) -> None:
    _partners(
        world,
        *(ldif_group(f"Team {n}", [user_dn("ann")], rid=2000 + n) for n in range(3)),
    )
    built = _engine(world, safety={"deletion_threshold": 2})
    built.engine.cycle("initial")
    world.users = {k: v for k, v in world.users.items() if "CN=Team " not in k}
    world.write()
    cycle = built.engine.cycle("delta", allow_shrink=True)
    export = cycle.runs[-1]
    assert export.profile is Profile.EXPORT
    assert export.status == Status.STOPPED_DELETION_THRESHOLD
    assert "3 deletes" in export.message
    assert {f"Team {n}" for n in range(3)} <= set(_cloud(world, built))
