"""Neither a password nor an NT hash ever reaches log output, on success or failure.

Every logger is set to DEBUG (impacket's included) and everything written to stdout,
stderr and the logging system is searched for the secrets in every form they could take.
"""

from __future__ import annotations

import base64
import logging

import pytest
from tests.integration.phs.accounts import Account, guid_text, settings_for
from tests.support.samba import SambaDC

from hybridsync.connectors.drsr import (
    DrsrAuthenticationError,
    DrsrHashReader,
    ReplicationAccessDeniedError,
)
from hybridsync.core.password_hash_sync.changes import PasswordSyncState, plan_password_sync
from hybridsync.core.password_hash_sync.hashes import derive_password_hash, nt_hash_of_password

pytestmark = pytest.mark.samba

PASSWORD = "Leak-Check!Pw2026"


def secret_forms(*passwords: str) -> list[str]:
    forms: list[str] = []
    for password in passwords:
        raw = nt_hash_of_password(password).value
        forms += [password, raw.hex(), raw.hex().upper(), repr(raw)[2:-1]]
        forms += [base64.b64encode(raw).decode(), repr(password.encode("utf-16-le"))[2:-1]]
    return forms


def test_no_password_or_nt_hash_in_any_log_output(
    samba_dc: SambaDC,
    phs_ou: str,
    tag: str,
    sync_account: Account,
    plain_account: Account,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("impacket", "hybridsync"):
        caplog.set_level(logging.DEBUG, logger=name)
    guid = guid_text(samba_dc, samba_dc.add_user(f"leak-{tag}", ou_dn=phs_ou, password=PASSWORD))
    missing = "00000000-0000-4000-8000-000000000000"

    reads = list(
        DrsrHashReader(settings_for(samba_dc, sync_account)).read_nt_hashes([guid, missing])
    )
    assert reads[0].nt_hash == nt_hash_of_password(PASSWORD)  # the secret was really handled
    logging.getLogger("hybridsync.test").info("read %s", reads)  # as a careless caller would
    logging.getLogger("hybridsync.test").info("derived %s", derive_password_hash(reads[0].nt_hash))
    plan_password_sync(PasswordSyncState(), [], {guid})
    with pytest.raises(ReplicationAccessDeniedError):
        list(DrsrHashReader(settings_for(samba_dc, plain_account)).read_nt_hashes([guid]))
    with pytest.raises(DrsrAuthenticationError) as refused:
        DrsrHashReader(settings_for(samba_dc, sync_account, password=PASSWORD + "x")).open()
    logging.getLogger("hybridsync.test").error("failed: %s", refused.value)

    captured = capfd.readouterr()
    output = "\n".join([captured.out, captured.err, caplog.text])
    output += "\n".join(str(record.__dict__) for record in caplog.records)
    assert "drsr.nt_hash.read" in output  # our own debug events were captured
    assert "drsr.nt_hash.unreadable" in output
    leaked = [
        form
        for form in secret_forms(PASSWORD, PASSWORD + "x", sync_account.password)
        if form in output
    ]
    assert leaked == []
