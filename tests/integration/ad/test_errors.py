"""Clear errors for every way the connection can fail; secrets never in messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.integration.ad.space import ConnectorSpace
from tests.support.samba import SambaDC
from tests.support.tls import issue_server_certificate

from hybridsync.connectors.ad import ADConnector
from hybridsync.connectors.ad.watermark import DirSyncWatermark, decode, encode
from hybridsync.errors import (
    ConfigError,
    FatalConnectorError,
    TransientConnectorError,
    UnreachableError,
)

pytestmark = pytest.mark.samba


def _fails(connector: ADConnector, match: str) -> FatalConnectorError:
    with pytest.raises(FatalConnectorError, match=match) as caught:
        list(connector.full_import())
    return caught.value


def test_bad_credentials(
    samba_dc: SambaDC, make_connector: Callable[..., ADConnector], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WRONG_PASSWORD", "Not-The-Password-42")
    error = _fails(make_connector(password_env="WRONG_PASSWORD"), "bad credentials")
    assert samba_dc.admin_upn in str(error)
    assert "Not-The-Password-42" not in str(error)


def test_untrusted_certificate_is_a_tls_failure(
    samba_dc: SambaDC, make_connector: Callable[..., ADConnector], tmp_path: Path
) -> None:
    other_ca = issue_server_certificate(tmp_path, "elsewhere.example", "127.0.0.1").ca_file
    _fails(make_connector(ca_file=other_ca), "TLS failure")


def test_system_store_does_not_trust_the_test_ca(
    make_connector: Callable[..., ADConnector],
) -> None:
    _fails(make_connector(ca_file=None), "TLS failure")


def test_unreachable_server(make_connector: Callable[..., ADConnector]) -> None:
    error = _fails(make_connector(url="ldaps://127.0.0.1:1", reconnect_attempts=0), "unreachable")
    assert "127.0.0.1:1" in str(error)
    assert isinstance(error, UnreachableError)  # never reached: not worth retrying


def test_plain_ldap_without_tls_is_refused_by_the_dc(
    samba_dc: SambaDC, make_connector: Callable[..., ADConnector]
) -> None:
    _fails(make_connector(url=samba_dc.ldap_url, start_tls=False), "requires TLS")


def test_a_base_dn_of_another_domain(make_connector: Callable[..., ADConnector]) -> None:
    _fails(make_connector(base_dn="DC=fabrikam,DC=com", include_ous=()), "does not exist")


def test_an_ou_outside_the_domain_is_a_config_error(
    make_connector: Callable[..., ADConnector],
) -> None:
    with pytest.raises(ConfigError, match="OU=Elsewhere,DC=fabrikam,DC=com"):
        list(make_connector(include_ous=("OU=Elsewhere,DC=fabrikam,DC=com",)).full_import())


def test_missing_password_variable_is_a_config_error(
    make_connector: Callable[..., ADConnector],
) -> None:
    connector = make_connector(password_env="NOT_SET_ANYWHERE")  # read when binding
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE"):
        list(connector.full_import())


def test_an_invalid_dirsync_cookie_asks_for_a_full_import(
    make_connector: Callable[..., ADConnector], space: ConnectorSpace
) -> None:
    connector = make_connector(delta_mode="dirsync")
    space.full(connector.full_import())
    assert space.watermark is not None
    state = decode(space.watermark)
    assert isinstance(state, DirSyncWatermark)
    broken = encode(DirSyncWatermark(dict.fromkeys(state.cookies, b"not a cookie")))
    with pytest.raises(FatalConnectorError, match="run a full import"):
        list(connector.delta_import(broken))


@pytest.mark.parametrize("text", ["", "{}", '{"mode": "dirsync", "cookies": {"user": "%%"}}'])
def test_a_damaged_watermark_asks_for_a_full_import(
    make_connector: Callable[..., ADConnector], text: str
) -> None:
    with pytest.raises(FatalConnectorError, match="run a full import"):
        list(make_connector().delta_import(text))


def test_a_hung_dc_is_a_timeout_not_a_hang(
    samba_dc: SambaDC, make_connector: Callable[..., ADConnector]
) -> None:
    connector = make_connector(timeout_seconds=1)
    connector.parameters()  # bound before the DC hangs
    with samba_dc.frozen(), pytest.raises(TransientConnectorError, match="did not answer"):
        list(connector.full_import())
