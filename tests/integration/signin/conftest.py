"""A served cloud directory, a tenant for contoso.com, and a PTA agent validating against the
session's Samba DC (module scope: one agent for every test of a module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.cloud_server import CloudServer, CloudTenant, serve_cloud
from tests.support.samba import SambaDC, admin_password_check
from tests.support.signin import running_agent

from hybridsync.agent.runner import AgentRunner
from hybridsync.connectors.ad.password_check import PasswordCheck

PASSWORD_ENV = "HYBRIDSYNC_TEST_AGENT_AD_PASSWORD"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("signin")


@pytest.fixture(scope="module")
def served(workdir: Path) -> Iterator[CloudServer]:
    with serve_cloud(workdir / "cloud") as server:
        yield server


@pytest.fixture(scope="module")
def contoso(served: CloudServer) -> CloudTenant:
    return served.new_tenant("contoso.com")


@pytest.fixture(scope="module")
def password_check(samba_dc: SambaDC) -> Iterator[PasswordCheck]:
    mp = pytest.MonkeyPatch()
    mp.setenv(PASSWORD_ENV, samba_dc.admin_password)
    check = admin_password_check(samba_dc, PASSWORD_ENV)
    yield check
    check.close()
    mp.undo()


@pytest.fixture(scope="module")
def agent(
    contoso: CloudTenant, password_check: PasswordCheck, workdir: Path
) -> Iterator[AgentRunner]:
    def checker(anchor: str, password: str) -> str:
        return str(password_check.check(anchor, password))

    with running_agent(contoso, workdir / "agent", checker) as runner:
        yield runner
