"""Sync on demand (``Engine.sync_object``): one object through import, scope and join,
metaverse and export, with the step report; an LDIF source and a recording target."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.engine.test_group_filter import PILOT, ldif_group, user_dn
from tests.unit.engine.test_group_filter import engine as filtered_engine

from hybridsync.cli.on_demand import print_report
from hybridsync.engine import Status
from hybridsync.engine.report import Profile
from hybridsync.errors import NotFoundError


def synced_world(world: Any) -> Any:
    world.set_users(world.user("ann", title="Engineer"), world.user("bob", title="Clerk"))
    built = world.engine()
    assert built.engine.cycle("initial").status == Status.SUCCESS
    return built


def test_a_changed_user_is_exported_alone_and_each_step_is_reported(world: Any) -> None:
    built = synced_world(world)
    world.put(world.user("ann", title="Architect"))
    world.put(world.user("bob", title="Manager"))  # changed too, but not asked for

    report = built.engine.sync_object("ad", "ann@contoso.com")

    assert report["status"] == "synced"
    step = report["import"]
    assert step["dn"] == "CN=ann,OU=Staff,DC=contoso,DC=com"
    assert step["change"] == "updated"
    assert step["values"]["title"] == ["Architect"]
    scope = report["scope"]
    assert scope["in_scope"] is True
    assert "In from AD - User Join" in scope["rules_in_scope"]
    assert scope["join"]["action"] == "keep"
    mv_changes = {c["attribute"]: c for c in report["metaverse"]["changes"]}
    assert mv_changes["jobTitle"]["before"] == ["Engineer"]
    assert mv_changes["jobTitle"]["after"] == ["Architect"]
    assert mv_changes["jobTitle"]["rule"] == "In from AD - User Common"
    [export] = report["export"]
    assert export["target"] == "cloud"
    assert export["action"] == "update"
    assert export["attributes"] == {"jobTitle": ["Architect"]}
    assert export["outcome"] == "ok"
    assert export["target_id"]
    assert export["confirmed"] is True

    users = world.by_upn(built)
    assert users["ann@contoso.com"]["jobTitle"] == "Architect"
    assert users["bob@contoso.com"]["jobTitle"] == "Clerk"  # only the object asked for
    profiles = [(run["connector"], run["profile"]) for run in report["runs"]]
    assert profiles == [("ad", "delta-import"), ("ad", "delta-sync"), ("cloud", "export")]
    history = {run.run_id: run for run in built.store.runs(10)}
    assert all(history[run["run_id"]].status == Status.SUCCESS for run in report["runs"])


def test_a_new_user_is_projected_and_added_with_the_targets_id(world: Any) -> None:
    built = synced_world(world)
    world.put(world.user("cy"))

    report = built.engine.sync_object("ad", "CN=cy,OU=Staff,DC=contoso,DC=com")

    assert report["import"]["change"] == "added"
    assert report["scope"]["join"]["action"] == "project"
    shown = {c["attribute"]: c for c in report["metaverse"]["changes"]}
    assert (shown["displayName"]["before"], shown["displayName"]["after"]) == ([], ["Cy"])
    [export] = report["export"]
    assert (export["action"], export["outcome"], export["confirmed"]) == ("add", "ok", True)
    assert export["attributes"]["userPrincipalName"] == ["cy@contoso.com"]
    assert world.by_upn(built)["cy@contoso.com"]["displayName"] == "Cy"
    added = built.store.cs_by_anchor("cloud", export["target_id"])
    assert added is not None  # the target's id is the cloud object's anchor now


def test_the_same_sync_again_has_nothing_to_export(world: Any) -> None:
    built = synced_world(world)
    anchor = built.store.get_cs_many(built.store.cs_ids("ad"))[0].anchor
    assert anchor is not None

    report = built.engine.sync_object("ad", anchor)

    assert report["import"]["change"] == "unchanged"
    assert report["metaverse"]["changes"] == []
    assert (report["status"], report["export"]) == ("nothing-to-export", [])


def test_an_object_out_of_scope_says_which_clause_failed_and_exports_nothing(
    world: Any,
) -> None:
    built = synced_world(world)
    world.put(world.user("shadow", adminDescription="User_1234"))
    before = world.cloud(built).objects()

    report = built.engine.sync_object("ad", "shadow@contoso.com")

    assert report["scope"]["in_scope"] is False
    assert report["scope"]["rules_in_scope"] == []
    failed = [text for rule in report["scope"]["rules_out_of_scope"] for text in rule["failed"]]
    assert any("adminDescription NOTSTARTSWITH 'User_'" in text for text in failed), failed
    assert "User_1234" in failed[0]
    assert report["export"] == []
    assert report["status"] == "nothing-to-export"
    assert world.cloud(built).objects() == before


@pytest.mark.parametrize(
    "key", ["nobody@contoso.com", "*", "*)(objectClass=*", "CN=nobody,DC=contoso,DC=com"]
)
def test_an_unknown_key_is_not_found_and_changes_nothing(world: Any, key: str) -> None:
    built = synced_world(world)
    runs = len(built.store.runs(100))

    with pytest.raises(NotFoundError, match="no object with the DN, UPN or anchor"):
        built.engine.sync_object("ad", key)

    assert len(built.store.runs(100)) == runs


def test_staging_mode_shows_the_change_and_exports_nothing(world: Any) -> None:
    built = synced_world(world)
    world.put(world.user("ann", title="Architect"))
    staged = world.engine(staging_mode=True)

    report = staged.engine.sync_object("ad", "ann@contoso.com")

    assert report["status"] == "staging"
    [export] = report["export"]
    assert export["attributes"]["jobTitle"] == ["Architect"]
    assert export["outcome"] == "not sent (staging mode)"
    assert world.by_upn(built)["ann@contoso.com"]["jobTitle"] == "Engineer"
    assert [run["profile"] for run in report["runs"]] == ["delta-import", "delta-sync"]


def test_a_rejected_export_is_reported_with_the_targets_answer(world: Any) -> None:
    built = synced_world(world)
    world.put(world.user("ann", title="Architect"))
    cloud = world.cloud(built)
    cloud.reject = {cs.dn for cs in built.store.get_cs_many(built.store.cs_ids("cloud"))}

    report = built.engine.sync_object("ad", "ann@contoso.com")

    [export] = report["export"]
    assert export["outcome"] == "rejected"
    assert export["message"]
    assert report["status"] == "errors"
    [run] = [run for run in report["runs"] if run["profile"] == Profile.EXPORT.value]
    assert run["status"] == Status.COMPLETED_EXPORT_ERRORS.value


def test_a_delete_over_the_threshold_is_refused_unless_allowed(world: Any) -> None:
    built = synced_world(world)
    guarded = world.engine(safety={"deletion_threshold": 0})
    world.put(world.user("ann", title="Engineer", adminDescription="User_1234"))  # leaves scope

    refused = guarded.engine.sync_object("ad", "ann@contoso.com")

    assert refused["scope"]["in_scope"] is False
    assert refused["scope"]["join"]["action"] == "disconnect"
    [export] = refused["export"]
    assert export["outcome"] == "not sent"
    assert "deletion threshold" in export["message"]
    assert refused["status"] == "stopped"
    assert refused["runs"][-1]["status"] == Status.STOPPED_DELETION_THRESHOLD.value
    # Checked before the sync: the delete is not staged, so a second try can send it.
    assert [run["profile"] for run in refused["runs"]] == ["delta-import", "export"]
    assert "ann@contoso.com" in world.by_upn(built)

    allowed = guarded.engine.sync_object("ad", "ann@contoso.com", allow_deletes=True)

    [export] = allowed["export"]
    assert (export["action"], export["outcome"], export["confirmed"]) == ("delete", "ok", True)
    assert "ann@contoso.com" not in world.by_upn(built)
    assert "bob@contoso.com" in world.by_upn(built)


def test_the_filter_group_is_reported_by_the_membership_it_evaluated(
    world: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    world.set_users(world.user("ann"), world.user("bob"), ldif_group("Pilot", user_dn("ann")))
    built = filtered_engine(world)
    assert built.engine.cycle("initial").status == Status.SUCCESS

    outside = built.engine.sync_object("ad", "bob@contoso.com")
    member = built.engine.sync_object("ad", "ann@contoso.com")

    assert outside["scope"]["in_scope"] is False
    assert outside["scope"]["filtered"] == (
        f"filtered out by [filter] group (not a direct member of {PILOT})"
    )
    assert outside["export"] == []
    assert member["scope"]["in_scope"] is True
    assert "filtered" not in member["scope"]
    [filter_rule] = member["scope"]["rules_out_of_scope"]
    assert filter_rule["failed"] == [f"ISNOTMEMBEROF '{PILOT}' (the object is a direct member)"]
    print_report(outside)
    assert "2. scope: NOT synced, filtered out by [filter] group (not a direct member of " in (
        capsys.readouterr().out
    )
