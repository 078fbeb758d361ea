"""Store backends benchmark: the same sync cycles on SQLite and on PostgreSQL.

An LDIF directory of N users (``bench/engine.py``'s generator) goes through an initial
cycle, a settling delta cycle and a delta cycle with 1% changed, once with the SQLite
store (the baseline, measured in the same run) and once with a PostgreSQL store; each
PostgreSQL figure is printed as a ratio to SQLite's.

PostgreSQL: the database at ``--url`` (password from ``HYBRIDSYNC_STORE_PASSWORD``,
CA from ``--ca-file``), else a throw-away local server (``tests/support/postgres.py``,
needs the Debian package ``postgresql``) on loopback with TLS.

Usage: ``uv run --all-extras python bench/store.py [N] [--url URL --ca-file CA]``
(default 20,000).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support, bench

from bench.engine import bench_config, write_directory

from hybridsync.wiring import build

STEPS = ("initial cycle", "settling delta cycle", "delta cycle, 1% changed")


def cycles(store: Any, root: Path, count: int) -> dict[str, float]:
    """Seconds per step, for one store (``store`` as the configuration's value)."""
    ldif = root / "ad.ldif"
    write_directory(ldif, count, {})
    built = build(bench_config(store, root, ldif, count))
    seconds: dict[str, float] = {}
    try:
        for step in STEPS:
            if step == "delta cycle, 1% changed":
                write_directory(ldif, count, {i: "Changed" for i in range(0, count, 100)})
            started = time.perf_counter()
            report = built.engine.cycle("initial" if step == "initial cycle" else "delta")
            seconds[step] = time.perf_counter() - started
            assert report.status == "success", report.as_dict()
        exported = len(built.connectors["cloud"].objects())  # type: ignore[attr-defined]
        assert exported == count, f"{exported} of {count} users exported"
    finally:
        built.close()
    return seconds


@contextlib.contextmanager
def postgres_store(url: str | None, ca_file: str | None) -> Iterator[dict[str, str]]:
    if url is not None:
        yield {"url": url, **({"ca_file": ca_file} if ca_file else {})}
        return
    from tests.support.postgres import new_root, running_postgres

    root = new_root()
    try:
        with running_postgres(root) as server:
            secret = root / "bench-password"
            secret.write_text(server.password.get_secret_value(), encoding="utf-8")
            yield {
                "url": server.url_of(server.create_database()),
                "password_file": str(secret),
                "ca_file": str(server.ca_file),
            }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("users", nargs="?", type=int, default=20_000)
    parser.add_argument("--url", help="a PostgreSQL store URL (default: a throw-away server)")
    parser.add_argument("--ca-file", help="the CA of --url's server certificate")
    args = parser.parse_args(argv)
    count: int = args.users
    print(f"{count:,} users; Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="hybridsync-bench-") as tmp:
        (Path(tmp) / "sqlite").mkdir()
        baseline = cycles(str(Path(tmp) / "sqlite" / "state.db"), Path(tmp) / "sqlite", count)
        (Path(tmp) / "pg").mkdir()
        with postgres_store(args.url, args.ca_file) as store:
            measured = cycles(store, Path(tmp) / "pg", count)
    print(f"{'step':<26} {'SQLite':>9} {'PostgreSQL':>11} {'ratio':>7}")
    for step in STEPS:
        ratio = measured[step] / baseline[step]
        print(f"{step:<26} {baseline[step]:8.2f}s {measured[step]:10.2f}s {ratio:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
