"""Real processes of ``hybridsync`` without paying its import time for each one.

The crash tests start dozens of ``hybridsync run`` processes and kill them with SIGKILL;
importing the CLI, the engine and their libraries costs each one about two seconds of
CPU, several times what the run itself takes. :class:`PreloadedPython` starts one Python
process that imports them once, then forks it for every run: each run is still a process
of its own (its own store connections, killed with SIGKILL, its exit status seen by the
test), it only skips the imports.

    with PreloadedPython(["hybridsync.cli.run"], reload=["hybridsync.engine.faults"]) as py:
        done = py.run(["-c", "run", "initial", "-c", "hybridsync.toml"], CLI_MAIN, env=env)
        assert done.returncode == -signal.SIGKILL

``reload``: modules that read the environment when imported (the crash points read
``HYBRIDSYNC_KILL_AT``); each child reloads them once its own environment is in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = ["CLI_MAIN", "Finished", "PreloadedPython", "Started", "run_killed_at"]

CLI_MAIN = "from hybridsync.cli import main; main()"
"""The code ``python -c`` runs for the ``hybridsync`` console script."""
_SERVER = Path(__file__).with_name("preloaded_server.py")


@dataclass(frozen=True, slots=True)
class Finished:
    """What ``subprocess.run`` tells: the exit status (``-N``: killed by signal N)."""

    returncode: int
    stdout: str
    stderr: str


class Started:
    """A run in progress: ``pid``, ``poll()``, ``kill()`` and ``wait()`` as a ``Popen``."""

    def __init__(self, server: PreloadedPython, pid: int, output: Path) -> None:
        self._server = server
        self.pid = pid
        self._output = output
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self._server.reply_ready(0):
            self.returncode = self._server.read_exit()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self._server.reply_ready(timeout):
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            self.returncode = self._server.read_exit()
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            # Already gone, the status is on its way: nothing to kill.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def finished(self, timeout: float) -> Finished:
        """Wait for the end (killed after ``timeout`` seconds) and read what it printed."""
        try:
            code = self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.wait()
            raise
        read = lambda name: (self._output / name).read_text(errors="replace")  # noqa: E731
        return Finished(code, read("stdout"), read("stderr"))


class PreloadedPython:
    """A Python process that has imported ``preload`` and forks a child for each run.

    One run at a time: start the next once the previous one has been waited for.
    """

    def __init__(self, preload: Sequence[str], *, reload: Sequence[str] = ()) -> None:
        self._outputs = Path(tempfile.mkdtemp(prefix="hybridsync-preloaded-"))
        self._process = subprocess.Popen(
            [sys.executable, str(_SERVER), json.dumps({"preload": preload, "reload": reload})],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
        )  # fmt: skip
        self._runs = 0
        self._pending = b""  # replies read from the pipe, not yet taken
        ready = self._reply(timeout=120)
        assert ready == {"ready": True}, ready

    def start(
        self,
        argv: Sequence[str],
        code: str,
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        quiet: bool = False,
    ) -> Started:
        """Fork a child that runs ``code`` (as ``python -c``) with ``sys.argv = argv``."""
        self._runs += 1
        output = self._outputs / str(self._runs)
        output.mkdir()
        request = {
            "argv": list(argv),
            "code": code,
            "env": dict(env),
            "cwd": str(cwd or Path.cwd()),
            "stdout": os.devnull if quiet else str(output / "stdout"),
            "stderr": os.devnull if quiet else str(output / "stderr"),
        }
        if quiet:
            (output / "stdout").touch()
            (output / "stderr").touch()
        self._stdin().write(json.dumps(request).encode() + b"\n")
        started = self._reply(timeout=30)
        assert "pid" in started, started
        return Started(self, int(started["pid"]), output)

    def run(
        self,
        argv: Sequence[str],
        code: str,
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        timeout: float = 120,
    ) -> Finished:
        """Run to the end, as ``subprocess.run(..., capture_output=True, text=True)``."""
        return self.start(argv, code, env=env, cwd=cwd).finished(timeout)

    def reply_ready(self, timeout: float | None) -> bool:
        if b"\n" in self._pending:
            return True
        ready, _, _ = select.select([self._stdout()], [], [], timeout)
        return bool(ready)

    def read_exit(self) -> int:
        reply = self._reply(timeout=None)
        assert "returncode" in reply, reply
        return int(reply["returncode"])

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        for run in self._outputs.iterdir():
            for file in run.iterdir():
                file.unlink()
            run.rmdir()
        self._outputs.rmdir()

    def __enter__(self) -> PreloadedPython:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _stdin(self) -> IO[bytes]:
        assert self._process.stdin is not None
        return self._process.stdin

    def _stdout(self) -> IO[bytes]:
        assert self._process.stdout is not None
        return self._process.stdout

    def _reply(self, timeout: float | None) -> dict[str, Any]:
        """The next reply line; unbuffered reads, so ``select`` sees what is not yet taken."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._pending:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.reply_ready(left):
                raise TimeoutError(f"the preloaded Python did not answer in {timeout} s")
            chunk = os.read(self._stdout().fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"the preloaded Python exited ({self._process.wait()})")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        reply: dict[str, Any] = json.loads(line)
        return reply


def run_killed_at(
    processes: PreloadedPython, config: Path, cycle: str, progress: Callable[[], int], wanted: int
) -> None:
    """Start ``hybridsync run CYCLE`` and SIGKILL it once ``progress()`` (a count the
    servers show, not a time, so a loaded machine moves the moment with the run) reaches
    ``wanted``, or once the run ends if it finishes first (a minute at most)."""
    process = processes.start(
        ["-c", "run", cycle, "-c", str(config)], CLI_MAIN, env=os.environ, quiet=True
    )
    deadline = time.monotonic() + 60
    while process.poll() is None and progress() < wanted and time.monotonic() < deadline:
        time.sleep(0.02)
    process.kill()
    process.wait(30)
