"""A DC that does not answer: a real refused connection on loopback, no Samba needed."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

pytest.importorskip("impacket")

from hybridsync.connectors.drsr import (
    DomainControllerUnreachableError,
    DrsrHashReader,
    DrsrSettings,
)
from hybridsync.errors import FatalConnectorError

# Nothing listens here: test servers use 127.0.0.100-199 (tests/support/loopback.py).
NOBODY = "127.0.0.251"


def test_an_unreachable_dc_is_a_fatal_error_naming_the_host() -> None:
    settings = DrsrSettings(
        host=NOBODY, domain="corp.contoso.com", username="svc", password=SecretStr("pw-x!1"),
        timeout=5,
    )  # fmt: skip
    reader = DrsrHashReader(settings)
    with pytest.raises(DomainControllerUnreachableError) as caught:
        list(reader.read_nt_hashes(["7660fdf4-14e1-489c-8bf6-ff5038755bda"]))
    assert isinstance(caught.value, FatalConnectorError)
    assert f"domain controller {NOBODY}: cannot open MS-DRSR" in str(caught.value)
    assert "pw-x!1" not in str(caught.value)
    assert not reader.is_open
