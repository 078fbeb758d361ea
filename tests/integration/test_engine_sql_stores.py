"""The engine's cycle, safety, membership and unreadable-record tests, on SQLite and
PostgreSQL.

The engine unit tests run on the in-memory store; these modules of them run here again
on each SQL backend, so the engine's own behaviour is checked on the stores deployments
use (``HYBRIDSYNC_TEST_STORES`` runs every engine unit test on them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from tests.support.stores import BACKENDS, StoreTarget, target_of
from tests.unit.engine import (
    test_cycles,
    test_member_of,
    test_safety,
    test_unreadable_records,
)
from tests.unit.engine.conftest import world

__all__ = ["store_target", "world"]

MODULES: tuple[ModuleType, ...] = (
    test_cycles,
    test_member_of,
    test_safety,
    test_unreadable_records,
)


@pytest.fixture(params=BACKENDS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreTarget]:
    with target_of(request.param, request, tmp_path) as target:
        yield target


def _collect(module: ModuleType) -> dict[str, object]:
    """The module's tests, named after it so that two modules' names never clash."""
    short = module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    return {
        f"test_{short}__{name.removeprefix('test_')}": value
        for name, value in vars(module).items()
        if name.startswith("test_") and callable(value)
    }


for _module in MODULES:
    globals().update(_collect(_module))
