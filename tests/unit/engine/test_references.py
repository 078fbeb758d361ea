"""Reference attributes through the engine: a user's manager, from LDIF to a target.

The connector space holds the manager's DN; the metaverse the manager's person; the
target the id the target gave the manager's user.
"""

from __future__ import annotations

from typing import Any

from hybridsync.core.references import held
from hybridsync.core.values import Reference
from hybridsync.engine import Profile
from hybridsync.wiring import Built

BOSS_DN = "CN=boss,OU=Staff,DC=contoso,DC=com"


def _mv_of(built: Built, sam: str) -> Any:
    store = built.store
    cs = store.cs_by_dn("ad", f"CN={sam},OU=Staff,DC=contoso,DC=com")
    assert cs is not None
    assert cs.mv_id is not None
    mv = store.get_mv(cs.mv_id)
    assert mv is not None
    return mv


def _cloud_id(world: Any, built: Built, upn: str) -> str:
    for obj in world.cloud(built).objects().values():
        if obj.attributes.get("userPrincipalName") == (upn,):
            return obj.anchor
    raise AssertionError(f"no cloud user {upn}")


def _manager_in_cloud(world: Any, built: Built, upn: str) -> Any:
    return world.by_upn(built)[upn].get("manager")


def test_the_manager_flows_as_the_managers_person_and_the_managers_cloud_id(world: Any) -> None:
    world.set_users(world.user("boss"), world.user("ann", manager=BOSS_DN))
    built = world.engine()
    report = built.engine.cycle("initial")
    assert report.status.value.startswith("success") or report.errors == []
    boss, ann = _mv_of(built, "boss"), _mv_of(built, "ann")
    assert ann.attributes["manager"] == (Reference(boss.mv_id),)
    assert _manager_in_cloud(world, built, "ann@contoso.com") == Reference(
        _cloud_id(world, built, "boss@contoso.com")
    )
    # The next cycle's import confirms the manager: nothing more is sent.
    built.engine.cycle("delta")
    sent = len(world.cloud(built).sent)
    built.engine.cycle("delta")
    assert len(world.cloud(built).sent) == sent


def test_a_manager_created_in_a_later_batch_is_sent_in_the_same_export(world: Any) -> None:
    # Batches of one: the report comes first (sorted ids are random), so her manager's
    # cloud user does not exist when her add is sent.
    world.set_users(world.user("ann", manager=BOSS_DN), world.user("boss"))
    built = world.engine(cloud={"batch_size": 1})
    built.engine.cycle("initial")
    assert _manager_in_cloud(world, built, "ann@contoso.com") == Reference(
        _cloud_id(world, built, "boss@contoso.com")
    )
    adds = [c for c in world.cloud(built).sent if c.kind.value == "add"]
    assert all("manager" not in {item.name for item in c.changes} for c in adds)
    # The pass over held references sends them alone (the add's values were just sent).
    updates = [c for c in world.cloud(built).sent if c.kind.value == "update"]
    assert [[item.name for item in c.changes] for c in updates] == [["manager"]]
    targets = built.store.get_cs_many(built.store.cs_ids("cloud"))
    assert [cs.pending_export for cs in targets] == [None, None]


def test_a_manager_imported_after_the_report_is_set_by_the_next_sync(world: Any) -> None:
    world.set_users(world.user("ann", manager=BOSS_DN))
    built = world.engine()
    built.engine.cycle("initial")
    assert "manager" not in _mv_of(built, "ann").attributes  # a placeholder gives nothing
    world.put(world.user("boss"))
    built.engine.cycle("delta")
    boss = _mv_of(built, "boss")
    assert _mv_of(built, "ann").attributes["manager"] == (Reference(boss.mv_id),)
    assert _manager_in_cloud(world, built, "ann@contoso.com") == Reference(
        _cloud_id(world, built, "boss@contoso.com")
    )


def test_changing_and_removing_the_manager_follow_in_the_cloud(world: Any) -> None:
    world.set_users(world.user("boss"), world.user("chief"), world.user("ann", manager=BOSS_DN))
    built = world.engine()
    built.engine.cycle("initial")
    world.put(world.user("ann", manager="cn=CHIEF,ou=staff,dc=contoso,dc=com"))
    built.engine.cycle("delta")
    chief = _cloud_id(world, built, "chief@contoso.com")
    assert _manager_in_cloud(world, built, "ann@contoso.com") == Reference(chief)
    world.put(world.user("ann"))
    built.engine.cycle("delta")
    assert _manager_in_cloud(world, built, "ann@contoso.com") is None
    assert "manager" not in _mv_of(built, "ann").attributes


def test_deleting_the_manager_clears_it_on_the_report(world: Any) -> None:
    world.set_users(world.user("boss"), world.user("ann", manager=BOSS_DN))
    built = world.engine()
    built.engine.cycle("initial")
    world.remove("boss")
    built.engine.cycle("delta")
    assert "manager" not in _mv_of(built, "ann").attributes
    assert _manager_in_cloud(world, built, "ann@contoso.com") is None
    assert "boss@contoso.com" not in world.by_upn(built)


def test_a_filtered_manager_gives_no_value(world: Any) -> None:
    world.set_users(
        world.user("boss", adminDescription="User_excluded"), world.user("ann", manager=BOSS_DN)
    )
    built = world.engine()
    built.engine.cycle("initial")
    assert "manager" not in _mv_of(built, "ann").attributes
    assert _manager_in_cloud(world, built, "ann@contoso.com") is None


def test_renaming_the_manager_exports_nothing_for_the_report(world: Any) -> None:
    world.set_users(world.user("boss"), world.user("ann", manager=BOSS_DN))
    built = world.engine()
    built.engine.cycle("initial")
    built.engine.cycle("delta")
    before = _mv_of(built, "ann").attributes["manager"]
    moved = "CN=boss,OU=Managers,DC=contoso,DC=com"
    world.remove("boss")
    world.remove("ann")
    world.put(world.user("boss", ou="Managers"))
    world.put(world.user("ann", manager=moved))
    sent = len(world.cloud(built).sent)
    built.engine.cycle("delta")
    assert _mv_of(built, "ann").attributes["manager"] == before
    changed = {
        item.name for change in list(world.cloud(built).sent)[sent:] for item in change.changes
    }
    assert "manager" not in changed


def test_a_manager_the_target_never_gets_is_held_back_and_counted(world: Any) -> None:
    world.set_users(world.user("boss"), world.user("ann", manager=BOSS_DN))
    built = world.engine()
    built.engine.cycle("initial", export=False)
    boss_target = next(
        cs
        for cs in built.store.get_cs_many(built.store.cs_ids("cloud"))
        if cs.pending_export
        and cs.pending_export.changes.get("userPrincipalName") == ("boss@contoso.com",)
    )
    world.cloud(built).reject.add(boss_target.dn)
    report = built.engine.run("cloud", Profile.EXPORT)
    assert report.counts.get("held-back") == 1
    ann = _mv_of(built, "ann")
    ann_target = next(cs for cs in built.store.cs_linked_to(ann.mv_id) if cs.connector == "cloud")
    assert ann_target.pending_export is not None
    assert ann_target.pending_export.changes["manager"] == (held(_mv_of(built, "boss").mv_id),)
    assert _manager_in_cloud(world, built, "ann@contoso.com") is None
    world.cloud(built).reject.clear()
    built.engine.run("cloud", Profile.EXPORT)
    assert _manager_in_cloud(world, built, "ann@contoso.com") == Reference(
        _cloud_id(world, built, "boss@contoso.com")
    )


def test_a_reference_follows_its_object_when_the_directory_does_not_report_the_referrer(
    world: Any,
) -> None:
    # As AD does: moving the manager updates the reports' manager values in the
    # directory without reporting the reports; only the manager's entry changes.
    world.set_users(world.user("boss"), world.user("ann", manager=BOSS_DN))
    built = world.engine()
    built.engine.cycle("initial")
    built.engine.cycle("delta")
    before = _mv_of(built, "ann").attributes["manager"]
    world.remove("boss")
    world.put(world.user("boss", ou="Managers"))
    sent = len(world.cloud(built).sent)
    report = built.engine.cycle("delta")
    ann = built.store.cs_by_dn("ad", "CN=ann,OU=Staff,DC=contoso,DC=com")
    assert ann is not None
    assert ann.attributes["manager"] == (Reference("CN=boss,OU=Managers,DC=contoso,DC=com"),)
    assert report.runs[0].counts.get("references-renamed") == 1
    assert _mv_of(built, "ann").attributes["manager"] == before
    assert all(
        change.dn != _target_dn(built, "ann") for change in list(world.cloud(built).sent)[sent:]
    )


def _target_dn(built: Built, sam: str) -> str:
    mv = _mv_of(built, sam)
    return next(cs.dn for cs in built.store.cs_linked_to(mv.mv_id) if cs.connector == "cloud")
