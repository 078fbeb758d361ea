"""Least privilege for AD export: an account with rights on the export OU only.

The grants are the ones docs/ad.md gives for ``samba-tool dsacl set``: create and
delete user and group objects on the OU, and read/write of their properties (with the
password reset right) on the objects below it. Outside that OU the account has none:
an export there is an object error naming the right missing, and the run goes on.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable

import pytest
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector, ADSettings
from hybridsync.core.ports import AttributeChange, ExportChange, ExportKind, ExportOutcome

pytestmark = pytest.mark.samba
USER_CLASS = "bf967aba-0de6-11d0-a285-00aa003049e2"
GROUP_CLASS = "bf967a9c-0de6-11d0-a285-00aa003049e2"
RESET_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"
ACCOUNT_PASSWORD = "Svc-Export-Pa55!"
INITIAL = "Initial-Pa55word!"


def _sid(binary: bytes) -> str:
    revision, count = binary[0], binary[1]
    authority = int.from_bytes(binary[2:8], "big")
    subs = struct.unpack(f"<{count}L", binary[8 : 8 + 4 * count])
    return "-".join(["S", str(revision), str(authority), *map(str, subs)])


def export_ou_sddl(sid: str) -> str:
    """The ACEs docs/ad.md grants the export account on the export OU."""
    return (
        f"(OA;CI;CCDC;{USER_CLASS};;{sid})(OA;CI;CCDC;{GROUP_CLASS};;{sid})"
        f"(OA;CIIO;RPWP;;{USER_CLASS};{sid})(OA;CIIO;RPWP;;{GROUP_CLASS};{sid})"
        f"(OA;CIIO;CR;{RESET_PASSWORD};{USER_CLASS};{sid})"
    )


def _add(dn: str, sam: str, change_id: str) -> ExportChange:
    return ExportChange(change_id, ExportKind.ADD, None, dn, "user",
                        (AttributeChange("sAMAccountName", (sam,)),))  # fmt: skip


def test_an_account_with_rights_on_the_export_ou_only(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = samba_dc.add_ou("Allowed", ou)
    forbidden = samba_dc.add_ou("Forbidden", ou)
    account = samba_dc.add_user(n("svcexp"), ou_dn=ou, password=ACCOUNT_PASSWORD)
    sid = _sid(samba_dc.search(account, attributes=["objectSid"])[0][1]["objectSid"][0])
    subprocess.run(
        ["samba-tool", "dsacl", "set", "-s", str(samba_dc.smb_conf), f"--objectdn={allowed}",
         f"--sddl={export_ou_sddl(sid)}"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("HYBRIDSYNC_TEST_EXPORT_PASSWORD", ACCOUNT_PASSWORD)
    base = {"url": samba_dc.ldaps_url, "bind_user": f"{n('svcexp')}@{samba_dc.fqdn}",
            "password_env": "HYBRIDSYNC_TEST_EXPORT_PASSWORD", "ca_file": samba_dc.ca_file,
            "include_ous": (ou,), "timeout_seconds": 10}  # fmt: skip

    def connector(export_ou: str) -> ADConnector:
        return ADConnector("corp", ADSettings(**base, export_ou=export_ou),
                           password=lambda: INITIAL)  # fmt: skip

    inside = connector(allowed)
    try:
        (created,) = inside.export([_add(f"CN={n('in')},{allowed}", n("in"), "c1")])
        assert created.outcome is ExportOutcome.APPLIED, created.message
        samba_dc.connect(f"{n('in')}@{samba_dc.fqdn}", INITIAL).unbind_s()
        title = ExportChange("c2", ExportKind.UPDATE, created.anchor, f"CN={n('in')},{allowed}",
                             "user", (AttributeChange("title", ("Partner",)),))  # fmt: skip
        (updated,) = inside.export([title])
        assert updated.outcome is ExportOutcome.APPLIED, updated.message
        delete = ExportChange("c3", ExportKind.DELETE, created.anchor, f"CN={n('in')},{allowed}",
                              "user")  # fmt: skip
        (deleted,) = inside.export([delete])
        assert deleted.outcome is ExportOutcome.APPLIED, deleted.message
    finally:
        inside.close()

    outside = connector(ou)  # the export OU contains Forbidden, where it has no rights
    try:
        results = list(outside.export([
            _add(f"CN={n('out')},{forbidden}", n("out"), "c1"),
            _add(f"CN={n('in2')},{allowed}", n("in2"), "c2"),
        ]))  # fmt: skip
    finally:
        outside.close()
    by_id = {result.change_id: result for result in results}
    refused = by_id["c1"]
    assert refused.outcome is ExportOutcome.REJECTED
    assert refused.message.startswith(
        f"CN={n('out')},{forbidden}: insufficient rights: the account lacks "
        f"create child (user) on {forbidden}"
    )
    assert by_id["c2"].outcome is ExportOutcome.APPLIED, by_id["c2"].message
