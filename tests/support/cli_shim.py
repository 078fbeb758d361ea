"""``hybridsync`` for the documented commands: the same CLI, run by a process forked from
one that imported it once (``cli_server.py``), so a command does not pay the import.

The command gets this process's stdin, stdout, stderr, working directory, environment and
arguments; a signal sent to this process is passed on to it; this process ends as the
command does (its exit status, or the signal that killed it). Without the server, it
runs the installed console script instead.

Installed by :func:`install` as ``BIN/hybridsync`` (started with ``python -S``: no
``site``, so the shim itself starts in a few milliseconds).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from pathlib import Path

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


def install(directory: Path, socket_path: Path, fallback: Path) -> Path:
    """Write the shim as ``directory/hybridsync``; return its path."""
    source = Path(__file__).read_text(encoding="utf-8")
    call = f"\n\nrun({str(socket_path)!r}, {str(fallback)!r})\n"
    shim = directory / "hybridsync"
    shim.write_text(f"#!{sys.executable} -S\n{source}{call}", encoding="utf-8")
    shim.chmod(0o755)
    return shim


def _lines(connection: socket.socket) -> list[str]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(4096)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data.decode().splitlines()


def run(socket_path: str, fallback: str) -> None:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(socket_path)
    except OSError:
        os.execv(fallback, [fallback, *sys.argv[1:]])
    request = {"argv": sys.argv, "env": dict(os.environ), "cwd": os.getcwd()}
    socket.send_fds(connection, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
    pending = _lines(connection)
    pid = int(pending.pop(0).split()[1])

    def forward(received: int, _frame: object) -> None:
        # A command that ended already has its status on the way.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, received)

    for number in FORWARDED:
        signal.signal(number, forward)
    while not pending:
        pending = _lines(connection)
    code = int(pending[0].split()[1])
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)
