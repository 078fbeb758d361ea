"""Sign-in fixtures without AD: the real agent, its checker a table of passwords by anchor."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.cloud_server import CloudTenant
from tests.support.signin import running_agent, sync_user

from hybridsync.agent.runner import AgentRunner

PARTNER_PASSWORD = "Partn3r!Passw0rd"


class FakeAD:
    """Anchors to (password, outcome once the password is right)."""

    def __init__(self) -> None:
        self.accounts: dict[str, tuple[str, str]] = {}
        self.checked: list[str] = []

    def add(self, anchor: str, password: str, outcome: str = "success") -> None:
        self.accounts[anchor] = (password, outcome)

    def __call__(self, anchor: str, password: str) -> str:
        self.checked.append(anchor)
        known, outcome = self.accounts.get(anchor, ("", "invalid_credentials"))
        return outcome if known and password == known else "invalid_credentials"


@pytest.fixture
def fake_ad() -> FakeAD:
    return FakeAD()


@pytest.fixture
def agent(tenant: CloudTenant, fake_ad: FakeAD, tmp_path: Path) -> Iterator[AgentRunner]:
    with running_agent(tenant, tmp_path / "agent", fake_ad) as runner:
        yield runner


def synced_partner(
    tenant: CloudTenant, fake_ad: FakeAD, outcome: str = "success"
) -> dict[str, object]:
    anchor = os.urandom(16)
    user = sync_user(
        tenant, upn=f"p{uuid.uuid4().hex[:8]}@{tenant.partner_domain}", anchor=anchor, guest=True
    )
    user["onPremisesImmutableId"] = base64.b64encode(anchor).decode()
    fake_ad.add(user["onPremisesImmutableId"], PARTNER_PASSWORD, outcome)
    return user
