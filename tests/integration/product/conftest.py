"""A small workspace: the 20-user Contoso sample (LDIF) into the recording target."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.workspace import invoke, write_workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The configuration file of a fresh workspace."""
    return write_workspace(tmp_path)


__all__ = ["invoke", "workspace"]
