"""Users' managers from LDIF into the served cloud directory through the Graph connector:
set with ``PUT /users/{id}/manager/$ref``, changed, removed, and cleared when the manager
is deleted; checked as a cloud application reads them (``GET /users/{id}/manager``)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.cloud_server import CloudServer, graph_connector_toml, serve_cloud

from hybridsync.wiring import Built, build_from_file

CONFIG = """
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with serve_cloud(tmp_path_factory.mktemp("cloud")) as served:
        yield served


class Directory:
    """The LDIF directory of one test, its engine, and its cloud tenant."""

    def __init__(self, root: Path, server: CloudServer) -> None:
        self.root = root
        self.tenant = server.new_tenant()
        self.entries: dict[str, str] = {}
        (root / "hybridsync.toml").write_text(
            CONFIG + graph_connector_toml(server, self.tenant, root), "utf-8"
        )
        self.built: Built | None = None

    def dn(self, sam: str) -> str:
        return f"CN={sam},OU=Staff,DC=contoso,DC=com"

    def put(self, sam: str, manager: str | None = None) -> None:
        guid = base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, sam).bytes_le).decode()
        lines = [
            f"dn: {self.dn(sam)}", f"objectGUID:: {guid}", "objectClass: user", f"cn: {sam}",
            f"sAMAccountName: {sam}", f"displayName: {sam.title()}",
            f"userPrincipalName: {sam}@{self.tenant.domain}", "userAccountControl: 512",
        ]  # fmt: skip
        if manager is not None:
            lines.append(f"manager: {manager}")
        self.entries[sam] = "\n".join(lines) + "\n"
        self._write()

    def remove(self, sam: str) -> None:
        del self.entries[sam]
        self._write()

    def _write(self) -> None:
        text = "version: 1\n\n" + "\n".join(self.entries.values())
        (self.root / "ad.ldif").write_text(text, "utf-8")

    def cycle(self, kind: str, *, errors: int = 0) -> Any:
        if self.built is None:
            self.built = build_from_file(self.root / "hybridsync.toml")
        report = self.built.engine.cycle(kind)
        found = [
            f"{e.attribute or ''} {e.dn}: {e.message}" for run in report.runs for e in run.errors
        ]
        assert len(found) == errors, found
        self.errors = found
        return report

    def _get(self, path: str) -> Any:
        with self.tenant.client(self.tenant.app_token(self.tenant.admin_app)) as http:
            return http.get(path)

    def cloud_id(self, sam: str) -> str:
        upn = f"{sam}@{self.tenant.domain}"
        answer = self._get(f"/v1.0/users/{upn}")
        answer.raise_for_status()
        return str(answer.json()["id"])

    def manager_of(self, sam: str) -> str | None:
        """The id of the cloud user's manager, as ``GET /users/{id}/manager`` shows it."""
        answer = self._get(f"/v1.0/users/{self.cloud_id(sam)}/manager")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return str(answer.json()["id"])

    def remove_manager_in_the_cloud(self, sam: str) -> None:
        """Drift: the manager removed in the cloud (by the synchronization role itself,
        the only one the cloud lets change a synced user's manager)."""
        user = self.cloud_id(sam)
        with self.tenant.client(self.tenant.app_token(self.tenant.sync_app)) as http:
            assert http.delete(f"/v1.0/users/{user}/manager/$ref").status_code == 204

    def exists(self, sam: str) -> bool:
        return self._get(f"/v1.0/users/{sam}@{self.tenant.domain}").status_code == 200

    def close(self) -> None:
        if self.built is not None:
            self.built.close()


@pytest.fixture
def directory(tmp_path: Path, server: CloudServer) -> Iterator[Directory]:
    created = Directory(tmp_path, server)
    yield created
    created.close()


def exported(report: Any) -> dict[str, int]:
    counts = [run.counts for run in report.runs if run.profile.value == "export"]
    return {k: sum(c.get(k, 0) for c in counts) for k in ("add", "update", "delete")}


def test_managers_are_set_changed_removed_and_cleared_with_their_user(
    directory: Directory,
) -> None:
    # ann comes before her manager in the file: her user and his are created in the same
    # run, and her manager is set in that run once his user exists.
    directory.put("ann", manager=directory.dn("boss"))
    directory.put("bob", manager=directory.dn("boss").lower())  # DNs compared ignoring case
    directory.put("boss")
    directory.put("chief")
    directory.cycle("initial")
    boss = directory.cloud_id("boss")
    assert directory.manager_of("ann") == boss
    assert directory.manager_of("bob") == boss
    assert directory.manager_of("chief") is None

    # The import confirms the managers: a quiet delta writes nothing, and neither does
    # a full cycle (its import lists the users with $expand=manager).
    assert exported(directory.cycle("delta")) == {"add": 0, "update": 0, "delete": 0}
    assert exported(directory.cycle("initial")) == {"add": 0, "update": 0, "delete": 0}

    # A manager removed in the cloud is seen by the import and set again.
    directory.remove_manager_in_the_cloud("bob")
    assert exported(directory.cycle("delta")) == {"add": 0, "update": 1, "delete": 0}
    assert directory.manager_of("bob") == boss

    directory.put("ann", manager=directory.dn("chief"))
    changed = directory.cycle("delta")
    assert directory.manager_of("ann") == directory.cloud_id("chief")
    assert exported(changed) == {"add": 0, "update": 1, "delete": 0}

    directory.put("ann")
    directory.cycle("delta")
    assert directory.manager_of("ann") is None

    directory.remove("boss")
    directory.cycle("delta")
    assert not directory.exists("boss")
    assert directory.manager_of("bob") is None
    assert exported(directory.cycle("delta")) == {"add": 0, "update": 0, "delete": 0}


def test_a_manager_added_in_a_later_run_is_set_then(directory: Directory) -> None:
    directory.put("ann", manager=directory.dn("boss"))
    directory.cycle("initial")
    assert directory.manager_of("ann") is None  # her manager is not in the directory yet
    directory.put("boss")
    directory.cycle("delta")
    assert directory.manager_of("ann") == directory.cloud_id("boss")


def test_a_user_named_as_her_own_manager_is_an_error_on_her_alone(directory: Directory) -> None:
    directory.put("ann", manager=directory.dn("ann"))
    directory.put("bob", manager=directory.dn("boss"))
    directory.put("boss")
    directory.cycle("initial", errors=1)
    (error,) = directory.errors
    assert "cannot be their own manager" in error
    assert directory.manager_of("ann") is None
    assert directory.manager_of("bob") == directory.cloud_id("boss")
    directory.put("ann")  # fixed in the directory: the next cycle has nothing to refuse
    directory.cycle("delta")
    assert directory.manager_of("ann") is None
