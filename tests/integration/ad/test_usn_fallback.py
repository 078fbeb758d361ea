"""Without the right DirSync needs, delta imports use uSNChanged watermarks."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from structlog.testing import capture_logs
from tests.integration.ad.space import ConnectorSpace
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector
from hybridsync.connectors.ad.errors import InsufficientRightsError
from hybridsync.core.ports import ImportKind

pytestmark = pytest.mark.samba
SERVICE_PASSWORD = "Svc-Acc0unt!Pass"


@pytest.fixture
def service_account(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """An ordinary domain user: may read the directory, may not replicate it."""
    samba_dc.add_user(n("svc"), ou_dn=ou, upn=f"{n('svc')}@corp.contoso.com",
                      password=SERVICE_PASSWORD)  # fmt: skip
    monkeypatch.setenv("SERVICE_PASSWORD", SERVICE_PASSWORD)
    return f"{n('svc')}@corp.contoso.com"


def test_dirsync_mode_names_the_missing_right(
    make_connector: Callable[..., ADConnector], service_account: str
) -> None:
    connector = make_connector(bind_user=service_account, password_env="SERVICE_PASSWORD",
                               delta_mode="dirsync")  # fmt: skip
    with pytest.raises(InsufficientRightsError, match="insufficient rights"):
        list(connector.full_import())


def test_auto_mode_falls_back_to_usn_watermarks(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str],
    make_connector: Callable[..., ADConnector], service_account: str, space: ConnectorSpace,
) -> None:  # fmt: skip
    connector = make_connector(bind_user=service_account, password_env="SERVICE_PASSWORD")
    dn = samba_dc.add_user(n("usn1"), ou_dn=ou, upn=f"{n('usn1')}@contoso.com")
    space.full(connector.full_import())
    assert space.watermark is not None
    watermark = json.loads(space.watermark)
    assert watermark["mode"] == "usn"
    assert watermark["server"] == samba_dc.hostname
    samba_dc.modify(dn, {"title": "Changed"})
    added = samba_dc.add_user(n("usn2"), ou_dn=ou, upn=f"{n('usn2')}@contoso.com")
    records = space.delta(connector.delta_import(space.watermark))
    assert {(r.dn, r.kind) for r in records} == {
        (dn, ImportKind.REPLACE),
        (added, ImportKind.REPLACE),
    }
    assert space.by_name(n("usn1")).attributes["title"] == ("Changed",)
    assert json.loads(space.watermark)["usn"] > watermark["usn"]


def test_usn_watermark_from_another_dc_database_asks_for_a_full_import(
    make_connector: Callable[..., ADConnector], space: ConnectorSpace
) -> None:
    connector = make_connector(delta_mode="usn")
    space.full(connector.full_import())
    assert space.watermark is not None
    foreign = {
        **json.loads(space.watermark),
        "invocationId": "00000000-0000-0000-0000-000000000001",
    }
    with pytest.raises(Exception, match=r"another DC database.*run a full import"):
        list(connector.delta_import(json.dumps(foreign)))


def test_deletions_need_a_full_import_for_an_ordinary_account(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str],
    make_connector: Callable[..., ADConnector], service_account: str, space: ConnectorSpace,
) -> None:  # fmt: skip
    connector = make_connector(bind_user=service_account, password_env="SERVICE_PASSWORD")
    dn = samba_dc.add_user(n("usndel"), ou_dn=ou, upn=f"{n('usndel')}@contoso.com")
    space.full(connector.full_import())
    anchor = space.by_name(n("usndel")).anchor
    samba_dc.delete(dn)
    with capture_logs() as logs:
        records = space.delta(connector.delta_import(space.watermark or ""))
    # An ordinary account cannot list Deleted Objects: the delta says so instead of
    # guessing, and the next full import removes the object.
    assert records == []
    assert [e["event"] for e in logs] == ["ad.deletions_not_visible"]
    space.full(connector.full_import())
    assert anchor not in space.objects
