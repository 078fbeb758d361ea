"""The pure layers import no I/O module, standard library included.

import-linter covers third-party packages; this covers the standard library, which
the import graph does not show.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "hybridsync"
PURE_PACKAGES = ["core", "expressions"]
IO_MODULES = {
    "socket", "ssl", "subprocess", "sqlite3", "http", "urllib", "asyncio",
    "shutil", "tempfile", "io", "os", "pathlib", "logging", "threading",
}  # fmt: skip


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_package_imports_no_io_module(package: str) -> None:
    offenders = {
        f"{path.relative_to(SRC)}: {sorted(_imported_roots(path) & IO_MODULES)}"
        for path in (SRC / package).rglob("*.py")
        if _imported_roots(path) & IO_MODULES
    }
    assert not offenders


def test_the_checker_sees_an_io_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import socket\nfrom os import path\n", encoding="utf-8")
    assert _imported_roots(module) >= {"socket", "os"}
