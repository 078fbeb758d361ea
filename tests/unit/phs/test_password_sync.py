from __future__ import annotations

import pytest

from hybridsync.core.password_hash_sync.changes import (
    NTHashRead,
    PasswordChange,
    PasswordSyncState,
    plan_password_sync,
    record_outcome,
)
from hybridsync.core.password_hash_sync.hashes import nt_hash_of_password
from hybridsync.core.ports import ImportedObject, ImportKind, ImportPage
from hybridsync.core.values import Values


def user(anchor: str, pwd_last_set: Values | None = None, **kw: object) -> ImportedObject:
    attributes = {} if pwd_last_set is None else {"pwdLastSet": pwd_last_set}
    kind = kw.get("kind", ImportKind.UPDATE)
    object_type = kw.get("object_type", "user")
    assert isinstance(kind, ImportKind)
    assert isinstance(object_type, str)
    return ImportedObject(anchor, f"CN={anchor},OU=Partners", object_type, attributes, kind)


def page(*objects: ImportedObject, watermark: str | None = "w1") -> ImportPage:
    return ImportPage(objects, watermark)


def anchors(plan_changes: tuple[PasswordChange, ...]) -> list[str]:
    return [c.anchor for c in plan_changes]


def test_first_run_syncs_every_user_in_scope_oldest_change_first() -> None:
    feed = [page(user("b", ("300",)), user("a", (200,)), user("c", (b"100",)))]
    plan = plan_password_sync(PasswordSyncState(), feed, {"a", "b", "c"})
    assert anchors(plan.to_sync) == ["c", "a", "b"]
    assert [c.pwd_last_set for c in plan.to_sync] == [100, 200, 300]
    assert plan.watermark == "w1"


def test_users_out_of_scope_are_not_synced() -> None:
    plan = plan_password_sync(PasswordSyncState(), [page(user("a", (1,)), user("x", (2,)))], {"a"})
    assert anchors(plan.to_sync) == ["a"]


def test_unchanged_pwd_last_set_is_not_synced_again() -> None:
    state = PasswordSyncState(synced={"a": 100, "b": 100}, watermark="w0")
    plan = plan_password_sync(state, [page(user("a", (100,)), user("b", (150,)))], {"a", "b"})
    assert anchors(plan.to_sync) == ["b"]
    assert plan.unchanged == 1


def test_a_record_without_pwd_last_set_is_no_password_change() -> None:
    state = PasswordSyncState(synced={"a": 100})
    plan = plan_password_sync(state, [page(user("a"))], {"a"})
    assert plan.to_sync == ()
    assert plan.unchanged == 1


def test_the_newest_record_of_an_anchor_wins_across_pages() -> None:
    state = PasswordSyncState(synced={"a": 100})
    feed = [page(user("a", (200,)), watermark="w1"), page(user("a", (100,)), watermark="w2")]
    plan = plan_password_sync(state, feed, {"a"})
    assert plan.to_sync == ()
    assert plan.watermark == "w2"


def test_deleted_and_descoped_users_are_forgotten() -> None:
    state = PasswordSyncState(synced={"a": 1, "b": 1}, pending={"c": PasswordChange("c")})
    feed = [page(user("a", kind=ImportKind.DELETE), user("b", (2,)), user("c", (3,)))]
    plan = plan_password_sync(state, feed, {"c"})
    assert set(plan.forget) == {"a", "b"}
    assert anchors(plan.to_sync) == ["c"]
    after = record_outcome(state, plan, succeeded={"c"})
    assert after.synced == {"c": 3}
    assert after.pending == {}


def test_a_user_that_comes_into_scope_without_a_password_change_gets_its_first_sync() -> None:
    state = PasswordSyncState(synced={"a": 1}, watermark="w0")
    plan = plan_password_sync(state, [page(watermark="w1")], {"a", "new"})
    assert plan.to_sync == (PasswordChange("new"),)


def test_a_failed_user_stays_pending_and_is_retried_next_run() -> None:
    state = PasswordSyncState()
    plan = plan_password_sync(state, [page(user("a", (1,)), user("b", (2,)))], {"a", "b"})
    after = record_outcome(state, plan, succeeded={"a"})
    assert after.synced == {"a": 1}
    assert set(after.pending) == {"b"}
    assert after.watermark == "w1"
    # The feed reports nothing new, yet b is tried again.
    retry = plan_password_sync(after, [page(watermark="w2")], {"a", "b"})
    assert anchors(retry.to_sync) == ["b"]
    assert record_outcome(after, retry, succeeded={"b"}).synced == {"a": 1, "b": 2}


def test_a_newer_change_replaces_a_pending_one() -> None:
    state = PasswordSyncState(synced={"a": 1}, pending={"a": PasswordChange("a", "", 2)})
    plan = plan_password_sync(state, [page(user("a", (3,)))], {"a"})
    assert plan.to_sync == (PasswordChange("a", "CN=a,OU=Partners", 3),)


def test_a_crash_before_recording_repeats_the_same_plan() -> None:
    state = PasswordSyncState(synced={"a": 1}, watermark="w0")
    feed = [page(user("a", (5,)), watermark="w1")]
    first = plan_password_sync(state, feed, {"a"})
    # Nothing recorded: the next run reads from the old watermark and plans the same sync.
    assert plan_password_sync(state, feed, {"a"}) == first
    assert record_outcome(state, first, succeeded={"a"}).watermark == "w1"


def test_no_watermark_in_the_pages_keeps_the_stored_one() -> None:
    plan = plan_password_sync(PasswordSyncState(watermark="w0"), [page(watermark=None)], set())
    assert plan.watermark == "w0"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (("soon",), "pwdLastSet is not an integer: 'soon'"),
        ((1, 2), "pwdLastSet has 2 values, expected one"),
        ((True,), "pwdLastSet is a boolean"),
    ],
)
def test_an_unreadable_pwd_last_set_is_reported_with_the_object(
    values: Values, reason: str
) -> None:
    feed = [page(user("a", values), user("b", (1,)))]
    plan = plan_password_sync(PasswordSyncState(), feed, {"a", "b"})
    assert plan.skipped == (("a", f"CN=a,OU=Partners: {reason}"),)
    assert anchors(plan.to_sync) == ["b"]  # one bad object never stops the others


def test_only_user_objects_have_their_hash_synced() -> None:
    plan = plan_password_sync(
        PasswordSyncState(), [page(user("g", (1,), object_type="group"))], {"g"}
    )
    assert plan.to_sync == ()
    assert plan.skipped == (("g", "CN=g,OU=Partners: only user objects have their hash synced"),)


def test_an_nt_hash_read_has_a_hash_or_an_error() -> None:
    nt_hash = nt_hash_of_password("x")
    assert NTHashRead("a", nt_hash).nt_hash == nt_hash
    assert NTHashRead("a", error="gone").error == "gone"
    with pytest.raises(ValueError, match="either a hash or an error"):
        NTHashRead("a")
    with pytest.raises(ValueError, match="either a hash or an error"):
        NTHashRead("a", nt_hash, "both")
    assert nt_hash.value.hex() not in repr(NTHashRead("a", nt_hash))
