"""Export status memory, rejected exports, in-flight exports and plans."""

from __future__ import annotations

from typing import Any

from hybridsync.core.ports import ExportKind
from hybridsync.engine import Profile, Status


def test_unconfirmed_values_are_sent_again_until_an_import_returns_them(world: Any) -> None:
    world.set_users(world.user("ann", department="Sales"))
    built = world.engine(cloud={"ignored_attributes": ["department"]})
    built.engine.cycle("initial")
    cloud = world.cloud(built)
    assert [c.kind for c in cloud.sent] == [ExportKind.ADD]
    # Without an import in between, the unconfirmed values are re-sent by each export.
    built.engine.run("cloud", Profile.EXPORT)
    assert cloud.sent[-1].kind is ExportKind.UPDATE
    assert "department" in {c.name for c in cloud.sent[-1].changes}
    # The import confirms what the target kept; department never came back: sent again.
    built.engine.cycle("delta")
    assert [c.name for c in cloud.sent[-1].changes] == ["department"]
    # A target that keeps everything confirms and the next cycle sends nothing.
    built.close()
    keeping = world.engine()
    keeping.engine.cycle("delta")
    sent = len(world.cloud(keeping).sent)
    keeping.engine.cycle("delta")
    assert len(world.cloud(keeping).sent) == sent


def test_a_rejected_export_is_recorded_and_retried_the_run_goes_on(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob"))
    built = world.engine()
    cloud = world.cloud(built)
    built.engine.cycle("initial", export=False)
    rejected_dn = next(
        cs.dn
        for cs in built.store.get_cs_many(built.store.cs_ids("cloud"))
        if cs.pending_export and "ann" in str(cs.pending_export.changes["userPrincipalName"])
    )
    cloud.reject.add(rejected_dn)
    report = built.engine.run("cloud", Profile.EXPORT)
    assert report.status == Status.COMPLETED_EXPORT_ERRORS
    assert [(e.dn, e.kind) for e in report.errors] == [(rejected_dn, "export")]
    assert set(world.by_upn(built)) == {"bob@contoso.com"}
    cloud.reject.clear()
    assert built.engine.run("cloud", Profile.EXPORT).status == Status.SUCCESS
    assert set(world.by_upn(built)) == {"ann@contoso.com", "bob@contoso.com"}


def test_plan_lists_changes_and_apply_refuses_a_stale_plan(world: Any) -> None:
    world.set_users(world.user("ann", department="Sales"))
    built = world.engine()
    built.engine.cycle("initial")
    built.engine.cycle("delta")
    world.put(world.user("ann", department="Finance"))
    built.engine.cycle("delta", export=False)
    plan = built.engine.plan()
    assert plan["summary"] == {"update": 1}
    (change,) = plan["changes"]
    assert change["attributes"] == [
        {"name": "department", "before": ["Sales"], "after": ["Finance"]}
    ]
    world.put(world.user("ann", department="Legal"))
    built.engine.cycle("delta", export=False)
    stale = built.engine.apply(plan)
    assert stale.status == Status.STOPPED_PLAN_MISMATCH
    assert world.by_upn(built)["ann@contoso.com"]["department"] == "Sales"
    fresh = built.engine.apply(built.engine.plan())
    assert fresh.status == Status.SUCCESS
    assert world.by_upn(built)["ann@contoso.com"]["department"] == "Legal"


def test_an_export_in_flight_at_a_crash_is_read_back_not_duplicated(world: Any) -> None:
    world.set_users(world.user("ann"))
    built = world.engine()
    built.engine.cycle("initial", export=False)
    store = built.store
    (cs,) = store.get_cs_many(store.cs_ids_to_export("cloud"))
    from dataclasses import replace

    from hybridsync.engine.export import change_for

    # What a crash after sending and before storing the result leaves behind.
    world.cloud(built).export([change_for(cs)])
    with store.transaction():
        store.put_cs(replace(cs, export_in_flight=True))
    report = built.engine.run("cloud", Profile.EXPORT)
    assert report.counts.get("read-back") == 1
    assert len(world.cloud(built).objects()) == 1
    assert store.get_cs(cs.cs_id).anchor is not None  # type: ignore[union-attr]
