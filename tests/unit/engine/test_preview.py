"""``preview`` decides as sync does: the same test (``core.outbound.is_target_object``) says
whether an object is a target object, linked by an outbound rule."""

from __future__ import annotations

import base64
from typing import Any

from hybridsync.engine import Status
from hybridsync.engine.report import Profile


def test_a_provisioned_target_object_is_kept_by_preview_as_by_sync(world: Any) -> None:
    world.set_users(world.user("ann"), world.user("bob"))
    built = world.engine()
    assert built.engine.cycle("initial").status == Status.SUCCESS
    store = built.store
    targets = store.get_cs_many(store.cs_ids("cloud"))
    assert len(targets) == 2
    target = targets[0]
    assert target.mv_id is not None
    assert target.joined_by == "Out to Cloud - User Join"

    # Before the shared test, preview ran the cloud's inbound rules (none) on it and
    # answered "disconnect": the rule that joined it is not an in-scope inbound rule.
    shown = built.engine.preview("cloud", target.dn)
    assert shown["join"]["action"] == "keep"
    assert shown["join"]["rule"] == target.joined_by
    assert shown["join"]["metaverse_object"] == target.mv_id
    assert shown["rules_in_scope"] == []
    assert shown["targets"]["cloud"]["action"] == "flow"
    assert shown["targets"]["cloud"]["pending_export"] is None  # nothing to export

    # What a sync of the cloud connector then does: exactly what preview said.
    report = built.engine.run("cloud", Profile.FULL_SYNC)
    assert report.status == Status.SUCCESS, report.as_dict()
    after = store.get_cs(target.cs_id)
    assert after is not None
    assert (after.mv_id, after.joined_by) == (target.mv_id, target.joined_by)
    assert after.pending_export is None
    mv = store.get_mv(target.mv_id)
    assert mv is not None
    shown_values = {name: entry["values"] for name, entry in shown["metaverse"].items()}
    assert shown_values == {name: shown_as(values) for name, values in mv.attributes.items()}


def shown_as(values: Any) -> list[Any]:
    """Values as preview prints them (bytes as base64 text)."""
    return ["base64:" + base64.b64encode(v).decode() if isinstance(v, bytes) else v for v in values]
