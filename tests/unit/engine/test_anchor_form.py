"""An anchor that changes form under the same DN (an objectGUID that is not 16 bytes) is an
object error naming the object and the attribute: never a delete plus an add, which would
replace the cloud user and lose its group memberships. Through the LDIF connector, the
engine and the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from hybridsync.engine import Status

U0 = "CN=u0,OU=Staff,DC=contoso,DC=com"


def _with_guid(entry: str, line: str) -> str:
    lines = entry.split("\n")
    assert lines[1].startswith("objectGUID:: ")
    lines[1] = line
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("guid_line", "found"),
    [
        ("objectGUID:: " + base64.b64encode(b"0123456789").decode(), "10 bytes"),
        ("objectGUID:: " + base64.b64encode(bytes(17)).decode(), "17 bytes"),
        ("objectGUID: not-a-guid", "the text 'not-a-guid'"),
    ],
    ids=["short", "long", "text"],
)
@pytest.mark.parametrize("kind", ["delta", "initial"])
def test_an_anchor_in_another_form_is_an_object_error_not_a_replacement(
    world: Any, kind: str, guid_line: str, found: str
) -> None:
    users = [world.user(f"u{i}", department="Sales") for i in range(3)]
    world.set_users(*users)
    built = world.engine()
    built.engine.cycle("initial")
    cloud = world.cloud(built)
    before = dict(cloud.objects())
    (anchor_before,) = [cs.anchor for cs in built.store.get_cs_many(built.store.cs_ids("ad"))
                        if cs.dn == U0]  # fmt: skip

    world.set_users(_with_guid(users[0], guid_line), *users[1:])
    imported = built.engine.cycle(kind).runs[0]

    assert imported.status == Status.COMPLETED_ERRORS
    (error,) = imported.errors
    assert error.kind == "import"
    assert error.dn.startswith(U0)
    assert f"attribute objectGUID holds {found}, not a 16-byte GUID" in error.message
    assert error.anchor == anchor_before
    assert imported.counts.get("deleted", 0) == 0
    assert imported.counts.get("added", 0) == 0
    assert dict(cloud.objects()) == before  # same cloud objects, same identities
    anchors = [cs.anchor for cs in built.store.get_cs_many(built.store.cs_ids("ad"))]
    assert anchor_before in anchors
    assert len(anchors) == 3


def test_a_guid_written_as_text_is_the_same_anchor_as_its_bytes(world: Any) -> None:
    user = world.user("u0")
    world.set_users(user)
    built = world.engine()
    built.engine.cycle("initial")
    (cs,) = built.store.get_cs_many(built.store.cs_ids("ad"))

    world.set_users(_with_guid(user, f"objectGUID: {cs.anchor.upper()}"))
    imported = built.engine.cycle("delta").runs[0]

    assert imported.status == Status.SUCCESS
    assert imported.counts.get("deleted", 0) == imported.counts.get("added", 0) == 0
    (after,) = built.store.get_cs_many(built.store.cs_ids("ad"))
    assert after.anchor == cs.anchor
