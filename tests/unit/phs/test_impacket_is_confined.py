"""impacket (and its crypto package) are imported only by the DRSR connector."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "hybridsync"
ALLOWED = SRC / "connectors" / "drsr"
CONFINED = {"impacket", "Cryptodome"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_the_drsr_connector_imports_impacket() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if ALLOWED not in path.parents and imported_roots(path) & CONFINED
    ]
    assert offenders == []


def test_the_drsr_connector_does_import_it() -> None:
    assert any(imported_roots(p) & CONFINED for p in ALLOWED.rglob("*.py"))


def test_the_drsr_package_exports_a_sorted_public_api() -> None:
    drsr = pytest.importorskip("hybridsync.connectors.drsr")
    assert drsr.__all__ == sorted(drsr.__all__)
    assert all(hasattr(drsr, name) for name in drsr.__all__)
