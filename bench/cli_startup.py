"""How long the CLI takes to start: every help screen and ``status`` on the demo.

Each command runs in a fresh interpreter, as a user runs it; ``python -c pass`` and
``hybridsync --version`` run in the same passes as baselines (what any Python program
pays, and what the CLI pays before it does anything), so that a busy machine shows as
slower baselines rather than as a slower CLI. Best of N alternating passes.

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
BASELINES: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "hybridsync --version": ["-c", ENTRY, "--version"],
}
STATUS = "hybridsync status (demo)"
VERSION = "hybridsync --version"


def commands() -> dict[str, list[str]]:
    """The baselines, ``--help``, every command's ``--help``, then ``status`` on the demo."""
    from hybridsync.cli import COMMAND_MODULES

    helps = {"hybridsync --help": ["-c", ENTRY, "--help"]}
    for name in sorted(COMMAND_MODULES):
        helps[f"hybridsync {name} --help"] = ["-c", ENTRY, name, "--help"]
    return {**BASELINES, **helps, STATUS: ["-c", ENTRY, "status"]}


def target(name: str) -> float | None:
    """Seconds the command should take at most: 0.5 for a help screen, 1 for status."""
    if name == STATUS:
        return 1.0
    return 0.5 if name.endswith("--help") else None


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
        # Compiled bytecode is written (and then read) as on a user's machine from the
        # second run on: without it every run would compile every module again.
        env = {**os.environ, "COLUMNS": "100"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        _demo(directory, env)
        env["HYBRIDSYNC_CONFIG"] = str(directory / "demo" / "hybridsync.toml")
        best: dict[str, float] = {}
        for _ in range(passes):
            for name, arguments in commands().items():
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
    baseline, version = best["python -c pass"], best[VERSION]
    print(f"load average (1 min) at start: {load:.2f}; best of {options.passes} passes")
    for name, seconds in best.items():
        limit = target(name)
        verdict = "" if limit is None else ("  ok" if seconds < limit else "  SLOW")
        over = seconds - baseline
        ratio = seconds / version
        print(f"{name:<30} {seconds:6.3f} s  {over:+6.3f} s  {ratio:4.1f}x --version{verdict}")


if __name__ == "__main__":
    main()
