"""A small directory world for engine tests: LDIF users in, a recording target out.

The world's store is ``store_target``, here the in-memory store (``HYBRIDSYNC_TEST_STORES``
runs the engine tests on SQLite and PostgreSQL too; the integration suite always does).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.stores import StoreTarget, engine_backends, memory_target, target_of

from hybridsync.config import Config
from hybridsync.connectors.recording import RecordingTarget
from hybridsync.store import tables
from hybridsync.wiring import Built, build


def ldif_user(sam: str, upn: str | None = None, ou: str = "Staff", **attributes: Any) -> str:
    """One AD user as LDIF; ``upn`` defaults to sam@contoso.com, ``None`` values are left out."""
    dn = f"CN={sam},OU={ou},DC=contoso,DC=com"
    guid = uuid.uuid5(uuid.NAMESPACE_DNS, sam).bytes_le
    values: dict[str, Any] = {
        "objectClass": ["top", "person", "organizationalPerson", "user"],
        "cn": sam,
        "sAMAccountName": sam,
        "displayName": sam.title(),
        "userPrincipalName": upn if upn is not None else f"{sam}@contoso.com",
        "userAccountControl": "512",
        "distinguishedName": dn,
    }
    values.update(attributes)
    lines = [f"dn: {dn}", "objectGUID:: " + base64.b64encode(guid).decode()]
    for name, value in values.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{name}: {item}")
    return "\n".join(lines) + "\n"


class World:
    """Writes the AD LDIF, builds engines over one store and one recording target."""

    def __init__(self, tmp_path: Path, store: StoreTarget) -> None:
        self.tmp = tmp_path
        self.store = store
        self.ldif = tmp_path / "ad.ldif"
        self.users: dict[str, str] = {}
        self.built: list[Built] = []

    def set_users(self, *entries: str) -> None:
        self.users = {entry.split("\n", 1)[0]: entry for entry in entries}
        self.write()

    def put(self, entry: str) -> None:
        self.users[entry.split("\n", 1)[0]] = entry
        self.write()

    def remove(self, sam: str) -> None:
        self.users = {dn: e for dn, e in self.users.items() if not dn.startswith(f"dn: CN={sam},")}
        self.write()

    def write(self) -> None:
        self.ldif.write_text("version: 1\n\n" + "\n".join(self.users.values()), encoding="utf-8")

    def engine(self, **overrides: Any) -> Built:
        data: dict[str, Any] = {
            "store": self.store.config,
            "builtin_rules": {"source": "ad", "target": "cloud"},
            "connectors": [
                {"type": "ldif", "name": "ad", "path": str(self.ldif)},
                {
                    "type": "recording",
                    "name": "cloud",
                    "path": str(self.tmp / "cloud.db"),
                    **overrides.pop("cloud", {}),
                },
            ],
            "base_dir": str(self.tmp),
        }
        data.update(overrides)
        memory = self.store.memory
        built = build(Config.model_validate(data), store=memory)
        self.built.append(built)
        return built

    def clear_store(self) -> None:
        """Start the store afresh (memory: a new one; SQLite: remove its file; PostgreSQL:
        delete every row)."""
        if self.store.memory is not None:
            self.store = memory_target()
            return
        if isinstance(self.store.config, str):
            Path(self.store.config).unlink(missing_ok=True)
            return
        store = self.store.open()
        try:
            with store.transaction():
                for table in reversed(tables.metadata.sorted_tables):
                    if table.name != "schema_migrations":
                        store.connection.execute(table.delete())
        finally:
            store.close()

    def close(self) -> None:
        for built in self.built:
            built.close()

    user = staticmethod(ldif_user)

    @staticmethod
    def cloud(built: Built) -> RecordingTarget:
        return cloud_of(built)

    @staticmethod
    def by_upn(built: Built) -> dict[str, dict[str, Any]]:
        return by_upn(built)


@pytest.fixture(params=engine_backends())
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreTarget]:
    """An empty store for an engine test: in memory unless told otherwise."""
    with target_of(request.param, request, tmp_path) as target:
        yield target


@pytest.fixture
def world(tmp_path: Path, store_target: StoreTarget) -> Iterator[World]:
    created = World(tmp_path, store_target)
    yield created
    created.close()


def cloud_of(built: Built) -> RecordingTarget:
    target = built.connectors["cloud"]
    assert isinstance(target, RecordingTarget)
    return target


def by_upn(built: Built) -> dict[str, dict[str, Any]]:
    """The recorded cloud users by userPrincipalName, single values unwrapped."""
    users: dict[str, dict[str, Any]] = {}
    for obj in cloud_of(built).objects().values():
        attributes = {k: v[0] if len(v) == 1 else v for k, v in obj.attributes.items()}
        users[str(attributes.get("userPrincipalName"))] = attributes
    return users


UserFactory = Callable[..., str]
