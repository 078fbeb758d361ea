"""Shared fixtures and the rule for tests that need real servers.

A test that needs Samba, PostgreSQL or Chromium is skipped locally when the program is
missing, and fails instead when ``CI=true``: CI must never pass by skipping.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = REPO_ROOT / "tests" / "data"
"""Every file a test reads that is not code: copies of published documents (README.md)."""


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def skip_unless_ci(reason: str) -> None:
    """Skip the calling test, or fail it when running in CI."""
    if running_in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_logging() -> Iterator[None]:
    """Every test starts from the default logging set-up.

    CLI tests configure logging globally (a handler on the root logger writing to the
    runner's stream, structlog filtering below INFO); left in place, later tests would
    log into a closed stream and lose their debug events.
    """
    root = logging.getLogger()
    loggers = [root, logging.getLogger("httpx")]
    saved = [(logger, list(logger.handlers), logger.level) for logger in loggers]
    yield
    for logger, handlers, level in saved:
        for handler in list(logger.handlers):
            if handler not in handlers:
                logger.removeHandler(handler)
        logger.setLevel(level)
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _close_test_http_sessions() -> Iterator[None]:
    yield
    close_registered_sessions()


# Samba AD DC session fixture `samba_dc` (API: tests/support/samba.py); PostgreSQL:
# `postgres_server` (session) and `postgres_database` (per test), tests/support/postgres.py;
# `store_target`: the store on each backend in turn (tests/support/stores.py).
from tests.support.fixtures import postgres_database, postgres_server, samba_dc  # noqa: E402, F401
from tests.support.sessions import close_registered_sessions  # noqa: E402
from tests.support.stores import store_target  # noqa: E402, F401
