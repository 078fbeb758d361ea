"""Helpers for the Graph connector's fast tests: fake tokens and clock, change builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.unit.connectors.graph.fake_graph import BASE

from hybridsync.connectors.graph import GraphConfig
from hybridsync.core.ports import AttributeChange, ExportChange, ExportKind


@dataclass
class FakeTokens:
    """Hands out numbered tokens; ``refresh`` moves to the next one."""

    issued: int = 1
    refreshes: int = 0

    def token(self, *, refresh: bool = False) -> str:
        if refresh:
            self.refreshes += 1
            self.issued += 1
        return f"token-{self.issued}"


@dataclass
class Sleeps:
    """Records waits instead of waiting; also the clock those waits advance."""

    delays: list[float] = field(default_factory=list)
    now: float = 1000.0

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def config(**overrides: Any) -> GraphConfig:
    settings: dict[str, Any] = {
        "base_url": BASE,
        "authority": "https://login.test/tenant-1",
        "client_id": "app-1",
        "client_secret": "s3cret",
        "target": "hybridsync",
        "concurrency": 2,
    }
    settings.update(overrides)
    return GraphConfig.model_validate(settings)


def person(anchor: str, upn: str, **extra: Any) -> tuple[AttributeChange, ...]:
    attributes = {
        "sourceAnchor": anchor,
        "userPrincipalName": upn,
        "displayName": upn.split("@")[0].title(),
        "accountEnabled": True,
        "userType": "Member",
        **extra,
    }
    return tuple(
        AttributeChange(name, () if value is None else (value,))
        for name, value in attributes.items()
    )


def add(change_id: str, anchor: str, upn: str, **extra: Any) -> ExportChange:
    return ExportChange(
        change_id, ExportKind.ADD, None, f"CN={anchor}", "user", person(anchor, upn, **extra)
    )


def update(change_id: str, cloud_id: str, **values: Any) -> ExportChange:
    changes = tuple(
        AttributeChange(name, () if value is None else (value,)) for name, value in values.items()
    )
    return ExportChange(change_id, ExportKind.UPDATE, cloud_id, f"CN={cloud_id}", "user", changes)


def delete(change_id: str, cloud_id: str) -> ExportChange:
    return ExportChange(change_id, ExportKind.DELETE, cloud_id, f"CN={cloud_id}", "user")
