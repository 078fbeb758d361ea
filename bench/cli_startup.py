"""How long the CLI takes to start: help screens and ``status`` on the demo.

Each command runs in a fresh interpreter, as a user runs it; ``python -c pass`` runs in
the same passes as the baseline (what any Python program pays), so that a busy machine
shows as a slower baseline rather than as a slower CLI. Best of N alternating passes.

    uv run python bench/cli_startup.py [--passes 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENTRY = "from hybridsync.cli import main; main()"
COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "hybridsync --version": ["-c", ENTRY, "--version"],
    "hybridsync --help": ["-c", ENTRY, "--help"],
    "hybridsync run --help": ["-c", ENTRY, "run", "--help"],
    "hybridsync status --help": ["-c", ENTRY, "status", "--help"],
    "hybridsync cloud --help": ["-c", ENTRY, "cloud", "--help"],
    "hybridsync init --help": ["-c", ENTRY, "init", "--help"],
    "hybridsync status (demo)": ["-c", ENTRY, "status"],
}
TARGETS = {"hybridsync --help": 0.5, "hybridsync status (demo)": 1.0}
"""Seconds a command should take at most (other ``--help`` screens: 0.5 s too)."""


def _seconds(arguments: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], env=env, cwd=cwd, capture_output=True, check=True)
    return time.perf_counter() - started


def _demo(directory: Path, env: dict[str, str]) -> None:
    command = [sys.executable, "-c", ENTRY, "demo", "--data-dir", str(directory / "demo")]
    subprocess.run(command, env=env, cwd=directory, capture_output=True, check=False)


def measure(passes: int) -> dict[str, float]:
    """Best seconds of each command over ``passes`` alternating passes."""
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        env = {**os.environ, "COLUMNS": "100"}
        _demo(directory, env)
        env["HYBRIDSYNC_CONFIG"] = str(directory / "demo" / "hybridsync.toml")
        best: dict[str, float] = {}
        for _ in range(passes):
            for name, arguments in COMMANDS.items():
                seconds = _seconds(arguments, env, directory)
                best[name] = min(best.get(name, seconds), seconds)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    best = measure(options.passes)
    if options.json:
        print(json.dumps({"load_average": load, "seconds": best}, indent=2))
        return
    baseline = best["python -c pass"]
    print(f"load average (1 min) at start: {load:.2f}; best of {options.passes} passes")
    for name, seconds in best.items():
        target = TARGETS.get(name, 0.5 if name.endswith("--help") else None)
        verdict = "" if target is None else ("  ok" if seconds < target else "  SLOW")
        print(f"{name:<28} {seconds:6.3f} s  ({seconds - baseline:+.3f} s over baseline){verdict}")


if __name__ == "__main__":
    main()
