"""Fixtures for AD connector tests against the session's Samba DC.

Each test gets an OU of its own (``ou``) and a connector scoped to it (``make_connector``),
so tests can change the directory without disturbing each other.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.integration.ad.space import ConnectorSpace
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector, ADSettings

PASSWORD_ENV = "HYBRIDSYNC_TEST_AD_PASSWORD"


@pytest.fixture
def ou(samba_dc: SambaDC, request: pytest.FixtureRequest) -> str:
    """A fresh OU named after the test (tests run once per session DC)."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:50]
    suffix = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:6]
    return samba_dc.add_ou(f"T-{name}-{suffix}")


@pytest.fixture
def n(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """``n("jdoe")``: a sAMAccountName unique to this test (they are unique per domain)."""
    suffix = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:6]
    return lambda base: f"{base}{suffix}"


@pytest.fixture
def make_connector(
    samba_dc: SambaDC, ou: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., ADConnector]]:
    """``make_connector(**settings)``: an AD connector bound as Administrator, scoped to ``ou``."""
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)
    made: list[ADConnector] = []

    def make(**overrides: Any) -> ADConnector:
        values: dict[str, Any] = {
            "url": samba_dc.ldaps_url,
            "bind_user": samba_dc.admin_upn,
            "password_env": PASSWORD_ENV,
            "ca_file": samba_dc.ca_file,
            "include_ous": (ou,),
            "reconnect_attempts": 1,
            "timeout_seconds": 10,
        }
        values.update(overrides)
        connector = ADConnector("corp", ADSettings(**values))
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def space() -> ConnectorSpace:
    return ConnectorSpace()
