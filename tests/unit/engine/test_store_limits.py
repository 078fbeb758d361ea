"""An object the store cannot hold is an object error; the rest of its batch lands.

Runs on every store, SQLite and PostgreSQL included: PostgreSQL refuses an index row
over about 2,700 bytes, so without the engine's checks a long DN failed the whole batch
there.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from tests.support.stores import ALL_BACKENDS, StoreTarget, target_of

from hybridsync.core.storage_limits import INDEXED_BYTES
from hybridsync.engine import Status


@pytest.fixture(params=ALL_BACKENDS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreTarget]:
    """The limits are the SQL backends' own: this test runs on them whatever the default."""
    with target_of(request.param, request, tmp_path) as target:
        yield target


def _long_ou() -> str:
    # Random, so PostgreSQL cannot compress the index row under its limit.
    return secrets.token_urlsafe(2_400)


def _stored_dns(built: Any) -> set[str]:
    store = built.store
    return {cs.dn for cs in store.get_cs_many(store.cs_ids("ad"))}


@pytest.mark.parametrize("kind", ["delta", "initial"])
def test_an_over_long_dn_is_an_object_error_and_the_rest_lands(world: Any, kind: str) -> None:
    users = [world.user(f"u{i}") for i in range(3)]
    world.set_users(*users)
    built = world.engine()
    built.engine.cycle("initial")
    before = _stored_dns(built)
    anchor = built.store.cs_by_dn("ad", "CN=u0,OU=Staff,DC=contoso,DC=com").anchor
    long_ou = _long_ou()
    # u0 moved under an OU too long to store, n1 new there, n2 new and fine.
    world.set_users(
        world.user("u0", ou=long_ou, department="Legal"),
        *users[1:],
        world.user("n1", ou=long_ou),
        world.user("n2"),
    )
    # Reported again by each full import while the DN stays too long (a delta import
    # reports the change that brought it, once).
    for again in (kind, "initial"):
        cycle = built.engine.cycle(again)
        imported = cycle.runs[0]
        assert imported.status == Status.COMPLETED_ERRORS
        errors = sorted(imported.errors, key=lambda e: e.dn)
        assert [e.dn[:6] for e in errors] == ["CN=n1,", "CN=u0,"]
        for error in errors:
            assert (error.kind, error.attribute) == ("import", "dn")
            assert f"at most {INDEXED_BYTES}" in error.message
            assert error.dn.endswith("...")
            assert len(error.dn) < 300
        assert errors[1].anchor == anchor
        assert len(built.store.run_errors(imported.run_id)) == 2
        assert imported.counts.get("deleted", 0) == 0
        assert _stored_dns(built) == before | {"CN=n2,OU=Staff,DC=contoso,DC=com"}
        cloud = world.by_upn(built)
        assert set(cloud) == {f"{sam}@contoso.com" for sam in ("u0", "u1", "u2", "n2")}
        assert "department" not in cloud["u0@contoso.com"]  # the stored object, unchanged
    # Moved back: the change flows.
    world.set_users(world.user("u0", department="Legal"), *users[1:], world.user("n2"))
    imported = built.engine.cycle(kind).runs[0]
    assert imported.status == Status.SUCCESS
    assert world.by_upn(built)["u0@contoso.com"]["department"] == "Legal"


def test_a_value_too_long_to_index_is_left_out_of_the_index_with_a_warning(world: Any) -> None:
    """A huge mS-DS-ConsistencyGuid: its MV join value cannot be indexed, and the cloud DN
    made from it cannot be stored. The user is an object error; everyone else syncs."""
    huge = base64.b64encode(secrets.token_bytes(3_000)).decode()
    world.set_users(
        world.user("u0"), world.user("big", **{"mS-DS-ConsistencyGuid:": huge}), world.user("u1")
    )
    built = world.engine()
    with structlog.testing.capture_logs() as logs:
        cycle = built.engine.cycle("initial")
    assert set(world.by_upn(built)) == {"u0@contoso.com", "u1@contoso.com"}
    not_indexed = [e for e in logs if e["event"] == "store.value_not_indexed"]
    assert not_indexed
    assert {e["space"] for e in not_indexed} == {"mv"}
    assert not_indexed[0]["attribute"] == "sourceAnchorBinary"
    assert not_indexed[0]["bytes"] > INDEXED_BYTES
    sync = next(run for run in cycle.runs if run.connector == "ad" and "sync" in run.profile.value)
    (error,) = sync.errors
    assert (error.connector, error.attribute, error.kind) == ("cloud", "dn", "outbound")
    assert "cannot be provisioned" in error.message
    assert sync.status == Status.COMPLETED_ERRORS
    again = built.engine.cycle("initial")  # reported again by a full sync, nothing stopped
    assert again.status == Status.COMPLETED_ERRORS
    assert set(world.by_upn(built)) == {"u0@contoso.com", "u1@contoso.com"}
