"""Delta import, DirSync and uSNChanged modes: every kind of change, checked two ways.

After each change the delta-applied connector space must equal what a fresh full import
reads, and the records must be of the kind the contract promises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.integration.ad.space import ConnectorSpace
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector
from hybridsync.core.ports import ImportedObject, ImportKind
from hybridsync.core.values import Reference

pytestmark = pytest.mark.samba


@pytest.fixture(params=["dirsync", "usn"])
def connector(
    request: pytest.FixtureRequest, make_connector: Callable[..., ADConnector]
) -> ADConnector:
    return make_connector(delta_mode=request.param)


def _in_sync(connector: ADConnector, space: ConnectorSpace) -> list[ImportedObject]:
    """Run a delta; check it left the space as a full import would; return its records."""
    delivered = space.delta(connector.delta_import(space.watermark or ""))
    fresh = ConnectorSpace()
    fresh.full(connector.full_import())
    assert space.view() == fresh.view()
    return delivered


def _kinds(records: list[ImportedObject], anchor: str) -> list[ImportKind]:
    return [r.kind for r in records if r.anchor == anchor]


def test_modified_and_cleared_attributes(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    connector: ADConnector,
    space: ConnectorSpace,
) -> None:
    dn = samba_dc.add_user(n("mod1"), ou_dn=ou, upn=n("mod1") + "@contoso.com",
                           attributes={"title": "Analyst", "department": "Ops"})  # fmt: skip
    space.full(connector.full_import())
    samba_dc.modify(dn, {"title": "Lead", "department": None, "extensionAttribute1": "Guest"})
    records = _in_sync(connector, space)
    user = space.by_name(n("mod1"))
    assert user.attributes["title"] == ("Lead",)
    assert "department" not in user.attributes
    assert user.attributes["extensionAttribute1"] == ("Guest",)
    expected = ImportKind.UPDATE if "dirsync" in space.watermark else ImportKind.REPLACE  # type: ignore[operator]
    assert _kinds(records, user.anchor) == [expected]


def test_no_change_gives_no_records(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    connector: ADConnector,
    space: ConnectorSpace,
) -> None:
    samba_dc.add_user(n("quiet1"), ou_dn=ou, upn=n("quiet1") + "@contoso.com")
    space.full(connector.full_import())
    records = space.delta(connector.delta_import(space.watermark or ""))
    assert [r for r in records if r.kind is not ImportKind.DELETE] == []


def test_added_user(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    connector: ADConnector,
    space: ConnectorSpace,
) -> None:
    space.full(connector.full_import())
    samba_dc.add_user(
        n("new1"), ou_dn=ou, upn=n("new1") + "@contoso.com", attributes={"title": "New"}
    )
    _in_sync(connector, space)
    assert space.by_name(n("new1")).attributes["title"] == ("New",)


def test_rename_keeps_the_anchor(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    connector: ADConnector,
    space: ConnectorSpace,
) -> None:
    dn = samba_dc.add_user(n("ren1"), ou_dn=ou, upn=n("ren1") + "@contoso.com")
    space.full(connector.full_import())
    anchor = space.by_name(n("ren1")).anchor
    renamed = samba_dc.move(dn, new_rdn="CN=Renamed User")
    _in_sync(connector, space)
    assert space.objects[anchor].dn == renamed


def test_move_within_scope_and_across_the_ou_filter(
    samba_dc: SambaDC, n: Callable[[str], str], ou: str, make_connector: Callable[..., ADConnector],
    connector: ADConnector, space: ConnectorSpace,
) -> None:  # fmt: skip
    inside, outside = samba_dc.add_ou("In", ou), samba_dc.add_ou("Out", ou)
    connector = make_connector(
        include_ous=(ou,), exclude_ous=(outside,), delta_mode=connector._settings.delta_mode
    )
    dn = samba_dc.add_user(
        n("mover1"), ou_dn=ou, upn=n("mover1") + "@contoso.com", attributes={"title": "T"}
    )
    space.full(connector.full_import())
    anchor = space.by_name(n("mover1")).anchor
    dn = samba_dc.move(dn, new_parent=inside)
    _in_sync(connector, space)
    assert space.objects[anchor].dn == dn
    dn = samba_dc.move(dn, new_parent=outside)
    records = _in_sync(connector, space)
    assert anchor not in space.objects
    assert _kinds(records, anchor) == [ImportKind.DELETE]
    samba_dc.move(dn, new_parent=ou)
    records = _in_sync(connector, space)
    assert space.objects[anchor].attributes["title"] == ("T",)  # whole object is back
    assert _kinds(records, anchor) == [ImportKind.REPLACE]


def test_delete_and_restore(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    connector: ADConnector,
    space: ConnectorSpace,
) -> None:
    dn = samba_dc.add_user(n("del1"), ou_dn=ou, upn=n("del1") + "@contoso.com")
    space.full(connector.full_import())
    anchor = space.by_name(n("del1")).anchor
    guid = samba_dc.object_guid(dn)
    samba_dc.delete(dn)
    records = _in_sync(connector, space)
    assert anchor not in space.objects
    assert ImportKind.DELETE in _kinds(records, anchor)
    samba_dc.restore(guid, dn)
    samba_dc.modify(dn, {"userPrincipalName": n("del1") + "@contoso.com"})
    records = _in_sync(connector, space)
    assert space.objects[anchor].dn == dn
    assert space.objects[anchor].attributes["userPrincipalName"] == (n("del1") + "@contoso.com",)


def test_group_membership_change(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    connector: ADConnector,
    space: ConnectorSpace,
) -> None:
    a = samba_dc.add_user(n("memb1"), ou_dn=ou, upn=n("memb1") + "@contoso.com")
    b = samba_dc.add_user(n("memb2"), ou_dn=ou, upn=n("memb2") + "@contoso.com")
    group = samba_dc.add_group(n("Team1"), ou_dn=ou, members=[a])
    space.full(connector.full_import())
    samba_dc.add_members(group, [b])
    samba_dc.remove_members(group, [a])
    _in_sync(connector, space)
    stored = next(o for o in space.objects.values() if o.dn == group)
    assert stored.attributes["member"] == (Reference(b),)
    samba_dc.remove_members(group, [b])
    _in_sync(connector, space)
    stored = next(o for o in space.objects.values() if o.dn == group)
    assert "member" not in stored.attributes


def test_changes_outside_the_scope_are_not_reported_as_objects(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    connector: ADConnector,
    space: ConnectorSpace,
) -> None:
    elsewhere = samba_dc.add_ou(n("Elsewhere"))
    before = samba_dc.add_user(n("old"), ou_dn=elsewhere, upn=n("old") + "@contoso.com")
    samba_dc.add_user(n("scoped1"), ou_dn=ou, upn=n("scoped1") + "@contoso.com")
    space.full(connector.full_import())
    samba_dc.add_user(n("out"), ou_dn=elsewhere, upn=n("outside") + "@contoso.com")
    samba_dc.modify(before, {"title": "Changed elsewhere"})
    records = space.delta(connector.delta_import(space.watermark or ""))
    mine = [r for r in records if r.dn.endswith(elsewhere)]
    if "dirsync" in (space.watermark or ""):
        assert mine == []  # DirSync knows neither DN changed
    else:  # uSNChanged cannot tell where the changed one was before: a harmless delete
        assert [(r.dn, r.kind) for r in mine] == [(before, ImportKind.DELETE)]
    assert [o.attributes["sAMAccountName"] for o in space.objects.values()] == [(n("scoped1"),)]


def test_a_peek_then_the_import_read_each_round_from_the_dc_once(
    samba_dc: SambaDC,
    n: Callable[[str], str],
    ou: str,
    make_connector: Callable[..., ADConnector],
    space: ConnectorSpace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service looks at a delta's first page, then imports it: the round the look read
    is not asked of the DC again, and a change made in between still arrives, next time."""
    connector = make_connector(delta_mode="dirsync")
    dn = samba_dc.add_user(n("peek1"), ou_dn=ou, upn=n("peek1") + "@contoso.com")
    space.full(connector.full_import())
    asked: list[tuple[str, bytes]] = []  # (filter, cookie) of each round asked of the DC
    conn = connector._conn
    ask = conn._dirsync_round

    def asking(key: Any) -> Any:
        asked.append((key[1], key[3]))
        return ask(key)

    monkeypatch.setattr(conn, "_dirsync_round", asking)

    samba_dc.modify(dn, {"title": "Before the look"})
    pages = connector.delta_import(space.watermark or "")
    assert any(page.objects for page in pages)  # the look: the users' round only
    pages.close()  # type: ignore[attr-defined]
    looked = len(asked)
    samba_dc.modify(dn, {"title": "After the look"})
    records = space.delta(connector.delta_import(space.watermark or ""))
    assert len(set(asked)) == len(asked)  # no round was asked of the DC twice
    assert asked[0] not in asked[looked:]  # the users' round came from the look
    assert [r.attributes["title"] for r in records if "title" in r.attributes] == [
        ("Before the look",)
    ]
    _in_sync(connector, space)  # the next import brings the later change
    assert space.by_name(n("peek1")).attributes["title"] == ("After the look",)
