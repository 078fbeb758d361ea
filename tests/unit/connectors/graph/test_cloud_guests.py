"""What the Graph connector reads of cloud guests for ``[guests_to_ad]`` (pure parts; the
whole flow runs against the served directory in tests/integration/ad/test_guests_to_ad.py)."""

from __future__ import annotations

import pytest

from hybridsync.connectors.graph import mapping
from hybridsync.connectors.graph.importing import Watermark, deleted_guest, with_guest_scope
from hybridsync.core.ports import ImportKind
from hybridsync.errors import FatalConnectorError, ObjectRejectedError

GUEST = {
    "id": "7d0b6f7e-1111-4e5f-9a7b-2c4d6e8f0a1b",
    "userPrincipalName": "jo_fabrikam.com#EXT#@contoso.com",
    "displayName": "Jo",
    "userType": "Guest",
    "creationType": "Invitation",
    "onPremisesSyncEnabled": None,
}


@pytest.mark.parametrize(
    ("changes", "guest"),
    [
        ({}, True),
        ({"userType": "guest", "creationType": "invitation"}, True),  # Graph's case varies
        ({"userType": "Member"}, False),
        ({"creationType": None}, False),  # created directly, not invited
        ({"onPremisesSyncEnabled": True}, False),  # a partner synced from AD
    ],
)
def test_a_cloud_guest_is_an_invited_guest_not_synced(
    changes: dict[str, object], guest: bool
) -> None:
    assert mapping.is_cloud_guest({**GUEST, **changes}) is guest


def test_guests_are_read_with_their_id_and_creation_but_these_are_never_written() -> None:
    target = mapping.Target(synced_markers=True, guests=True)
    assert target.select().endswith(",creationType,onPremisesSyncEnabled")
    attributes = mapping.attributes_from_user(GUEST, target)
    assert attributes["id"] == (GUEST["id"],)
    assert attributes["creationType"] == ("Invitation",)
    for read_only in ("id", "creationType", "deletedDateTime", "onPremisesSyncEnabled"):
        assert mapping.property_name(read_only, target) is None
    with pytest.raises(ObjectRejectedError):
        mapping.property_name("objectSid", target)


def test_a_soft_deleted_guest_is_kept_marked_and_a_scoping_mark_follows_membership() -> None:
    target = mapping.Target(synced_markers=True, guests=True)
    deleted = deleted_guest({**GUEST, "deletedDateTime": "2026-12-08T00:00:00Z"}, target,
                            ImportKind.REPLACE)  # fmt: skip
    assert deleted.kind is ImportKind.REPLACE
    assert deleted.attributes["deletedDateTime"] == ("2026-12-08T00:00:00Z",)
    assert with_guest_scope(deleted, frozenset({GUEST["id"]})).attributes["inGuestScopeGroup"] == (
        True,
    )
    assert with_guest_scope(deleted, frozenset()).attributes["inGuestScopeGroup"] == ()


def test_the_watermark_keeps_the_scoping_group_members() -> None:
    mark = Watermark("https://graph/users/delta?t=1", None, ("b", "a"))
    assert Watermark.parse(mark.text()) == mark
    assert Watermark.parse("https://graph/users/delta?t=1") == Watermark(
        "https://graph/users/delta?t=1"
    )
    both = Watermark("u", "g")
    assert Watermark.parse(both.text()) == both
    for broken in (
        '{"users": "u", "groups": null}',
        '{"users": "u", "groups": "g", "guest_members": [1]}',
    ):
        with pytest.raises(FatalConnectorError):
            Watermark.parse(broken)
