"""The optional write-back of objectGUID into an empty mS-DS-ConsistencyGuid."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.integration.ad.space import ConnectorSpace
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector
from hybridsync.core.ports import (
    AttributeChange,
    ExportChange,
    ExportKind,
    ExportOutcome,
    SupportsExport,
)

pytestmark = pytest.mark.samba


def _stamp(anchor: str, dn: str, guid: bytes, change_id: str = "c1") -> ExportChange:
    change = AttributeChange("mS-DS-ConsistencyGuid", (guid,))
    return ExportChange(change_id, ExportKind.UPDATE, anchor, dn, "user", (change,))


def test_write_back_fills_an_empty_consistency_guid_once(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str],
    make_connector: Callable[..., ADConnector], space: ConnectorSpace,
) -> None:  # fmt: skip
    dn = samba_dc.add_user(n("wb"), ou_dn=ou, upn=f"{n('wb')}@contoso.com")
    connector = make_connector(write_back_consistency_guid=True)
    assert connector.capabilities.export
    assert isinstance(connector, SupportsExport)
    space.full(connector.full_import())
    user = space.by_name(n("wb"))
    guid = samba_dc.object_guid(dn)
    (first,) = connector.export([_stamp(user.anchor, dn, guid)])
    assert first.outcome is ExportOutcome.APPLIED
    stored = samba_dc.search(dn, attributes=["mS-DS-ConsistencyGuid"])[0][1]
    assert stored == {"mS-DS-ConsistencyGuid": [guid]}
    (again,) = connector.export([_stamp(user.anchor, dn, bytes(16), "c2")])
    assert again.outcome is ExportOutcome.REJECTED
    assert "mS-DS-ConsistencyGuid" in again.message
    assert samba_dc.search(dn, attributes=["mS-DS-ConsistencyGuid"])[0][1] == stored
    read = connector.read_back(_stamp(user.anchor, dn, guid))
    assert read is not None
    assert read.attributes["mS-DS-ConsistencyGuid"] == (guid,)


def test_write_back_refuses_any_other_attribute(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str],
    make_connector: Callable[..., ADConnector], space: ConnectorSpace,
) -> None:  # fmt: skip
    dn = samba_dc.add_user(n("wbx"), ou_dn=ou, upn=f"{n('wbx')}@contoso.com")
    connector = make_connector(write_back_consistency_guid=True)
    space.full(connector.full_import())
    anchor = space.by_name(n("wbx")).anchor
    change = ExportChange("c1", ExportKind.UPDATE, anchor, dn, "user",
                          (AttributeChange("title", ("Boss",)),))  # fmt: skip
    (result,) = connector.export([change])
    assert result.outcome is ExportOutcome.REJECTED
    assert "title" in result.message
    assert "title" not in samba_dc.search(dn, attributes=["title"])[0][1]


def test_without_write_back_the_connector_does_not_offer_export(
    make_connector: Callable[..., ADConnector],
) -> None:
    assert not make_connector().capabilities.export


def test_sending_the_same_value_again_is_applied_not_an_error(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str],
    make_connector: Callable[..., ADConnector], space: ConnectorSpace,
) -> None:  # fmt: skip
    # An export repeated before an import confirmed it (or after a crash mid-export).
    dn = samba_dc.add_user(n("wbr"), ou_dn=ou, upn=f"{n('wbr')}@contoso.com")
    connector = make_connector(write_back_consistency_guid=True)
    space.full(connector.full_import())
    anchor = space.by_name(n("wbr")).anchor
    guid = samba_dc.object_guid(dn)
    results = list(
        connector.export([_stamp(anchor, dn, guid, "c1"), _stamp(anchor, dn, guid, "c2")])
    )
    assert [r.outcome for r in results] == [ExportOutcome.APPLIED, ExportOutcome.APPLIED]
    assert samba_dc.search(dn, attributes=["mS-DS-ConsistencyGuid"])[0][1] == {
        "mS-DS-ConsistencyGuid": [guid]
    }


def test_without_write_back_an_export_is_refused_and_nothing_written(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str],
    make_connector: Callable[..., ADConnector], space: ConnectorSpace,
) -> None:  # fmt: skip
    dn = samba_dc.add_user(n("wbo"), ou_dn=ou, upn=f"{n('wbo')}@contoso.com")
    connector = make_connector()
    space.full(connector.full_import())
    anchor = space.by_name(n("wbo")).anchor
    (result,) = connector.export([_stamp(anchor, dn, samba_dc.object_guid(dn))])
    assert result.outcome is ExportOutcome.REJECTED
    assert "write_back_consistency_guid is off" in result.message
    assert (
        "mS-DS-ConsistencyGuid"
        not in samba_dc.search(dn, attributes=["mS-DS-ConsistencyGuid"])[0][1]
    )
