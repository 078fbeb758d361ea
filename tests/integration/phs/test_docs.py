"""The domain-controller example of docs/password-hash-sync.md, run against Samba."""

from __future__ import annotations

import pytest
from tests.integration.phs.accounts import grant_replication_rights, guid_text
from tests.support.samba import SambaDC
from tests.unit.phs.doc_blocks import dc_blocks

pytestmark = pytest.mark.samba


def test_the_drsr_example_runs(
    samba_dc: SambaDC, phs_ou: str, tag: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = samba_dc.add_user("svc-phs", ou_dn=phs_ou, password="Svc-Phs!Pw2026")
    grant_replication_rights(samba_dc, account)
    user = samba_dc.add_user(f"doc-{tag}", ou_dn=phs_ou, password="Doc-User!Pw2026")
    monkeypatch.setenv("HYBRIDSYNC_PHS_PASSWORD", "Svc-Phs!Pw2026")
    namespace = {"DC_ADDRESS": samba_dc.address, "USER_GUID": guid_text(samba_dc, user)}
    [block] = dc_blocks()
    exec(compile(block, "docs/password-hash-sync.md", "exec"), namespace)
    assert str(namespace["cloud_hash"]).startswith("v1;PPH1_MD4,")
