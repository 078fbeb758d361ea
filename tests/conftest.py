"""Shared fixtures and the rule for tests that need real servers.

A test that needs Samba, PostgreSQL or Chromium is skipped locally when the program is
missing, and fails instead when ``CI=true``: CI must never pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def skip_unless_ci(reason: str) -> None:
    """Skip the calling test, or fail it when running in CI."""
    if running_in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


# Samba AD DC session fixture `samba_dc` (API: tests/support/samba.py).
from tests.support.fixtures import samba_dc  # noqa: E402, F401
