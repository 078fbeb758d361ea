"""The AD connector passes the connector contract suite that every source passes
(``tests/contract/suites.py``), against the session's Samba DC, in both delta modes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.contract.suites import SourceSuite
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector

pytestmark = pytest.mark.samba


@pytest.fixture
def users(samba_dc: SambaDC, ou: str, n: Callable[[str], str]) -> dict[str, str]:
    """The test OU's users before any change: their DNs by role."""
    return {
        role: samba_dc.add_user(n(role), ou_dn=ou, upn=f"{n(role)}@contoso.com",
                                attributes={"title": "Engineer"})
        for role in ("keep", "change", "gone")
    }  # fmt: skip


@pytest.fixture(params=["dirsync", "usn"])
def connector(
    request: pytest.FixtureRequest,
    users: dict[str, str],
    make_connector: Callable[..., ADConnector],
) -> ADConnector:
    return make_connector(delta_mode=request.param)


@pytest.fixture
def mutate(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], users: dict[str, str]
) -> Callable[[], tuple[str, str, str]]:
    def change() -> tuple[str, str, str]:
        samba_dc.modify(users["change"], {"title": "Lead"})
        samba_dc.delete(users["gone"])
        added = samba_dc.add_user(n("new"), ou_dn=ou, upn=f"{n('new')}@contoso.com")
        return users["change"], users["gone"], added

    return change


class TestADSource(SourceSuite):
    tells_added_from_changed = False
