"""A user's manager as Graph writes and reads it: requests and import values. Pure."""

from __future__ import annotations

import pytest

from hybridsync.connectors.graph import mapping
from hybridsync.connectors.graph.importing import delta_item, imported_user
from hybridsync.connectors.graph.operations import merged, plan_all
from hybridsync.core.ports import (
    AttributeChange,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
    ImportKind,
)
from hybridsync.core.values import Reference
from hybridsync.errors import ObjectRejectedError

PROJECT = mapping.Target(synced_markers=True, password_on_create=False)
ROOT = "https://graph.test/v1.0"
USER = "11111111-2222-3333-4444-555555555555"
BOSS = "99999999-8888-7777-6666-555555555555"


def update(*changes: AttributeChange, kind: ExportKind = ExportKind.UPDATE) -> ExportChange:
    anchor = None if kind is ExportKind.ADD else USER
    return ExportChange("c1", kind, anchor, "CN={41}", "user", changes)


def test_a_manager_is_set_through_its_ref_beside_the_patch_of_the_other_properties() -> None:
    change = update(
        AttributeChange("department", ("Sales",)), AttributeChange("manager", (Reference(BOSS),))
    )
    patch, put = plan_all(change, PROJECT, {}, ROOT)
    assert (patch.method, patch.path, patch.body) == (
        "PATCH",
        f"/users/{USER}",
        {"department": "Sales"},
    )
    assert (put.method, put.path) == ("PUT", f"/users/{USER}/manager/$ref")
    assert put.body == {"@odata.id": f"{ROOT}/users/{BOSS}"}
    assert put.idempotent


def test_a_cleared_manager_is_removed() -> None:
    patch, delete = plan_all(update(AttributeChange("manager", ())), PROJECT, {}, ROOT)
    assert patch.body == {}  # applied without a request by the connector
    assert (delete.method, delete.path, delete.body) == (
        "DELETE",
        f"/users/{USER}/manager/$ref",
        None,
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ((Reference("x/../../groups/1"),), "is not a cloud object id"),
        ((Reference(BOSS), Reference(USER)), "2 values for a single-valued reference"),
    ],
)
def test_a_manager_value_that_is_not_one_cloud_id_is_refused_naming_it(
    values: tuple[Reference, ...], message: str
) -> None:
    with pytest.raises(ObjectRejectedError, match=f"manager: .*{message}"):
        plan_all(update(AttributeChange("manager", values)), PROJECT, {}, ROOT)


def test_a_new_user_never_carries_its_manager() -> None:
    add = update(AttributeChange("manager", (Reference(BOSS),)), kind=ExportKind.ADD)
    with pytest.raises(ObjectRejectedError, match="manager: set on an existing user only"):
        plan_all(add, PROJECT, {}, ROOT)


def test_one_result_per_change_the_first_failure_wins() -> None:
    applied = ExportResult("c1", ExportOutcome.APPLIED, USER)
    refused = ExportResult("c1", ExportOutcome.REJECTED, message="manager not found")
    other = ExportResult("c2", ExportOutcome.APPLIED, BOSS)
    assert merged([applied, refused, other]) == [refused, other]
    assert merged([ExportResult("c1", ExportOutcome.APPLIED), applied]) == [applied]


def test_the_manager_is_imported_from_an_expanded_listing_and_from_delta() -> None:
    user = {"id": USER, "onPremisesImmutableId": "A", "manager": {"id": BOSS}}
    listed = imported_user(user, PROJECT, ImportKind.PRESENT, managers=True)
    assert listed.attributes["manager"] == (Reference(BOSS),)
    alone = imported_user({"id": USER}, PROJECT, ImportKind.PRESENT, managers=True)
    assert alone.attributes["manager"] == ()
    changed = delta_item({"id": USER, "manager@delta": [{"id": BOSS}]}, PROJECT)
    assert changed.attributes["manager"] == (Reference(BOSS),)
    removed = delta_item(
        {"id": USER, "manager@delta": [{"id": BOSS, "@removed": {"reason": "deleted"}}]}, PROJECT
    )
    assert removed.attributes["manager"] == ()
