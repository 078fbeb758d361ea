"""A hung DC does not hang a sign-in: the password check gives ``ad_unavailable`` in time.

The "DC" is a loopback TCP listener that takes every connection and never answers, so
every stage that waits on it (the TLS handshake of ``ldaps://``, the StartTLS result of
``ldap://``) must give up on its own; and the session's Samba DC, suspended mid-use.
"""

from __future__ import annotations

import base64
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import ldap
import pytest
from structlog.testing import capture_logs
from tests.support.cloud_server import CloudServer, CloudTenant, serve_cloud
from tests.support.hung_server import hung_server
from tests.support.samba import USER_PASSWORD, SambaDC, admin_password_check
from tests.support.signin import msal_app, public_client, running_agent, sync_user

from hybridsync.connectors.ad import ADSettings
from hybridsync.connectors.ad.password_check import PasswordCheck, PasswordOutcome

LIMIT_SECONDS = 1.0
SECRET = "Hung!Dc-Passw0rd-7f3a"
PASSWORD_ENV = "HYBRIDSYNC_TEST_HUNG_DC_PASSWORD"
ANCHOR = base64.b64encode(bytes(range(16))).decode()
# However slow the machine, a check bounded at LIMIT_SECONDS per wait is long done by then;
# a check without a bound never is.
GIVE_UP_SECONDS = 60.0
UPN = "wmoran@partners.contoso.com"  # a user of the Samba fixture's seed


@pytest.fixture
def hung_port() -> Iterator[int]:
    with hung_server() as port:
        yield port


def _check(url: str, monkeypatch: pytest.MonkeyPatch) -> PasswordCheck:
    monkeypatch.setenv(PASSWORD_ENV, "service-account-password")
    settings = ADSettings(
        url=url,
        bind_user="svc@corp.contoso.com",
        password_env=PASSWORD_ENV,
        password_check_timeout_seconds=LIMIT_SECONDS,
    )
    return PasswordCheck(settings, settings.password())


def _check_in_thread(check: PasswordCheck) -> list[PasswordOutcome]:
    """The outcome, or nothing if the check still hangs after GIVE_UP_SECONDS."""
    outcomes: list[PasswordOutcome] = []
    worker = threading.Thread(
        target=lambda: outcomes.append(check.check(ANCHOR, SECRET)), daemon=True
    )
    worker.start()
    worker.join(GIVE_UP_SECONDS)
    return outcomes


@pytest.mark.parametrize("scheme", ["ldaps", "ldap"])  # TLS handshake / StartTLS result
def test_hung_dc_gives_unavailable_not_a_hang(
    scheme: str, hung_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = _check(f"{scheme}://127.0.0.1:{hung_port}", monkeypatch)
    with capture_logs() as logs:
        outcomes = _check_in_thread(check)
    check.close()
    assert outcomes == [PasswordOutcome.AD_UNAVAILABLE]
    events = [entry for entry in logs if entry["event"] == "agent.ad_unavailable"]
    assert len(events) == 1
    assert events[0]["anchor"] == ANCHOR
    assert SECRET not in repr(logs)


def test_check_recovers_after_a_timeout(hung_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The lookup connection that timed out is dropped: the next check tries afresh (and,
    # the DC still hung, times out again rather than reusing a connection in a bad state).
    check = _check(f"ldaps://127.0.0.1:{hung_port}", monkeypatch)
    with capture_logs():
        first = _check_in_thread(check)
        second = _check_in_thread(check)
    check.close()
    assert first == second == [PasswordOutcome.AD_UNAVAILABLE]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[CloudServer]:
    with serve_cloud(tmp_path / "cloud") as server:
        yield server


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_user_is_told_to_try_again_later(
    served: CloudServer, hung_port: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tenant: CloudTenant = served.new_tenant("contoso.com")
    check = _check(f"ldaps://127.0.0.1:{hung_port}", monkeypatch)
    upn = f"hung{os.getpid()}@partners.contoso.com"
    sync_user(tenant, upn=upn, anchor=bytes(range(16)), guest=True)

    def checker(anchor: str, password: str) -> str:
        return str(check.check(anchor, password))

    with running_agent(tenant, tmp_path / "agent", checker):
        app = msal_app(tenant, public_client(tenant))
        result = app.acquire_token_by_username_password(upn, SECRET, scopes=[])
    check.close()
    assert "access_token" not in result
    # 80001 (the agent answered "AD unavailable"), not 80002 (the cloud gave up waiting).
    assert result.get("error") == "invalid_grant"
    assert result.get("error_codes") == [80001]
    assert "try again later" in result.get("error_description", "")


@pytest.mark.samba
def test_frozen_samba_dc_gives_unavailable_then_recovers(
    samba_dc: SambaDC, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real DC, hung with SIGSTOP: the lookup connection is already open (a search that
    # never gets its result), and the bind as the user needs a fresh TLS handshake.
    check, anchor = _check_and_anchor(samba_dc, monkeypatch)
    try:
        before = check.check(anchor, USER_PASSWORD)
        with samba_dc.frozen(), capture_logs() as logs:
            outcomes: list[PasswordOutcome] = []
            worker = threading.Thread(
                target=lambda: outcomes.append(check.check(anchor, USER_PASSWORD)), daemon=True
            )
            worker.start()
            worker.join(GIVE_UP_SECONDS)
        after = check.check(anchor, USER_PASSWORD)
    finally:
        check.close()
    assert before == PasswordOutcome.SUCCESS
    assert outcomes == [PasswordOutcome.AD_UNAVAILABLE]
    assert USER_PASSWORD not in repr(logs)
    assert after == PasswordOutcome.SUCCESS


def test_a_lookup_connection_the_dc_dropped_is_opened_again(
    samba_dc: SambaDC, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A DC drops idle connections: the next user lookup finds the socket closed and
    # must open a fresh connection once rather than fail the sign-in.
    check, anchor = _check_and_anchor(samba_dc, monkeypatch)
    try:
        before = check.check(anchor, USER_PASSWORD)
        dropped = check._lookup.open()
        descriptor = dropped.get_option(ldap.OPT_DESC)
        with socket.socket(fileno=os.dup(descriptor)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
        after = check.check(anchor, USER_PASSWORD)
        reopened = check._lookup.open()
    finally:
        check.close()
    assert before == PasswordOutcome.SUCCESS
    assert after == PasswordOutcome.SUCCESS
    assert reopened is not dropped


def _check_and_anchor(
    samba_dc: SambaDC, monkeypatch: pytest.MonkeyPatch
) -> tuple[PasswordCheck, str]:
    """A password check on the real DC, and the anchor of the test user it checks."""
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)
    check = admin_password_check(
        samba_dc, PASSWORD_ENV, password_check_timeout_seconds=LIMIT_SECONDS
    )
    found = samba_dc.search(
        samba_dc.base_dn, f"(userPrincipalName={UPN})", scope=2, attributes=["objectGUID"]
    )
    return check, base64.b64encode(found[0][1]["objectGUID"][0]).decode()
