from __future__ import annotations

from typing import Any

from hybridsync.engine import Profile, Status


def test_initial_cycle_provisions_every_in_scope_user(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob", department="Sales"))
    built = world.engine()
    cycle = built.engine.cycle("initial")
    assert cycle.status == Status.SUCCESS
    users = world.by_upn(built)
    assert set(users) == {"ann@contoso.com", "bob@contoso.com"}
    assert users["bob@contoso.com"]["department"] == "Sales"
    assert users["ann@contoso.com"]["accountEnabled"] is True


def test_second_delta_cycle_with_no_change_exports_nothing(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob"))
    built = world.engine()
    built.engine.cycle("initial")
    built.engine.cycle("delta")  # confirms the exports
    sent = len(world.cloud(built).sent)
    cycle = built.engine.cycle("delta")
    assert cycle.status == Status.SUCCESS
    assert len(world.cloud(built).sent) == sent


def test_delta_sync_touches_only_changed_objects(world: Any) -> None:
    world.set_users(*(world.user(f"user{i}") for i in range(30)))
    built = world.engine()
    built.engine.cycle("initial")
    built.engine.cycle("delta")
    world.put(world.user("user7", department="Finance"))
    imported = built.engine.run("ad", Profile.DELTA_IMPORT)
    assert imported.counts.get("updated") == 1
    assert len(built.store.cs_ids("ad", pending_only=True)) == 1
    synced = built.engine.run("ad", Profile.DELTA_SYNC)
    assert synced.status == Status.SUCCESS
    assert built.store.cs_ids_to_export("cloud") == [
        cs.cs_id for cs in built.store.get_cs_many(built.store.cs_ids("cloud")) if cs.pending_export
    ]
    assert len(built.store.cs_ids_to_export("cloud")) == 1
    built.engine.run("cloud", Profile.EXPORT)
    assert world.by_upn(built)["user7@contoso.com"]["department"] == "Finance"
    assert world.cloud(built).sent[-1].changes[0].name == "department"


def test_disabling_the_account_sets_account_enabled_false(world: Any) -> None:
    world.set_users(world.user("ann"))
    built = world.engine()
    built.engine.cycle("initial")
    world.put(world.user("ann", userAccountControl="514"))
    built.engine.cycle("delta")
    assert world.by_upn(built)["ann@contoso.com"]["accountEnabled"] is False


def test_leaving_scope_deprovisions_and_deleting_the_source_deletes(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob"), world.user("cat"))
    built = world.engine()
    built.engine.cycle("initial")
    world.put(world.user("ann", adminDescription="User_writeback"))  # out of every AD rule's scope
    world.remove("bob")
    cycle = built.engine.cycle("delta")
    assert cycle.status == Status.SUCCESS
    assert set(world.by_upn(built)) == {"cat@contoso.com"}
    assert built.store.count_mv() == 1


def test_cloud_filtered_accounts_are_never_provisioned(world: Any) -> None:
    world.set_users(
        world.user("ann"),
        world.user("MSOL_1234"),
        world.user("AAD_abcd"),
        world.user("sys", isCriticalSystemObject="TRUE"),
        world.user("dup", cn="dup\\0ACNF:4e1c"),
    )
    built = world.engine()
    built.engine.cycle("initial")
    assert set(world.by_upn(built)) == {"ann@contoso.com"}


def test_upn_falls_back_to_sam_at_domain_fqdn(world: Any) -> None:
    world.set_users(world.user("ann", upn=None, userPrincipalName=None))
    built = world.engine()
    built.engine.cycle("initial")
    assert "ann@contoso.com" in world.by_upn(built)


def test_an_expression_error_fails_only_that_object(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob", upn=None, userPrincipalName=None))
    built = world.engine(user_type={"source": "upn-suffix", "suffixes": ["@partners.contoso.com"]})
    cycle = built.engine.cycle("initial")
    assert cycle.status == Status.COMPLETED_ERRORS
    errors = [e for run in cycle.runs for e in run.errors]
    assert len(errors) == 1
    assert errors[0].rule == "In from AD - User UserType"
    assert errors[0].attribute == "userType"
    assert "UserPrincipalName is not present" in errors[0].message
    assert "CN=bob" in errors[0].dn
    assert set(world.by_upn(built)) == {"ann@contoso.com"}
    run_id = next(run.run_id for run in cycle.runs if run.errors)
    assert [e.message for e in built.store.run_errors(run_id)] == [errors[0].message]
    failed_run = next(run for run in cycle.runs if run.errors)
    assert failed_run.counts.get("projected") == 1  # ann only: bob's projection was taken back
    retried = built.engine.cycle("delta")  # bob is tried again, and fails again
    assert "projected" not in next(run for run in retried.runs if run.errors).counts


def test_on_premises_dn_comes_from_the_object_dn_without_a_distinguished_name(world: Any) -> None:
    world.set_users(world.user("ann", distinguishedName=None))
    built = world.engine()
    built.engine.cycle("initial")
    ann = world.by_upn(built)["ann@contoso.com"]
    assert ann["onPremisesDistinguishedName"] == "CN=ann,OU=Staff,DC=contoso,DC=com"
