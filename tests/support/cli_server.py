"""The process behind ``tests.support.cli_shim`` (run as a script): ``hybridsync``, imported
once, forked for every command.

Listens on the Unix socket named in its argument. A shim connects and sends one JSON
line (argv, env, cwd) with its stdin, stdout and stderr attached (SCM_RIGHTS); the server
forks a child that takes those three descriptors, the working directory and the
environment, and runs the CLI. It answers ``pid N`` at once and ``exit N`` when the child
ends (``-S``: killed by signal S). Several commands may run at once (a documented server
keeps running while the next commands run).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import sys
import traceback
from typing import Any

POLL_SECONDS = 0.02


def _read_request(connection: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
    while not data.endswith(b"\n"):
        more = connection.recv(1 << 20)
        if not more:
            raise ConnectionError("the shim went away mid-request")
        data += more
    request: dict[str, Any] = json.loads(data)
    return request, fds


def _child(request: dict[str, Any], fds: list[int], inherited: list[socket.socket]) -> None:
    """Become the command; never returns."""
    code = 1
    try:
        for sock in inherited:
            sock.close()
        for source, target in zip(fds, (0, 1, 2), strict=True):
            os.dup2(source, target)
            os.close(source)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        from hybridsync.cli import main

        try:
            main()
            code = 0
        except SystemExit as exit:
            if exit.code is None or isinstance(exit.code, int):
                code = exit.code or 0
            else:
                print(exit.code, file=sys.stderr)
    except BaseException:  # reported as an uncaught exception would be
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve(path: str) -> None:
    import hybridsync.cli

    loader = getattr(hybridsync.cli, "load_all_commands", None)
    if loader is not None:
        loader()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    os.write(1, b"ready\n")
    waiting: dict[int, socket.socket] = {}
    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [], POLL_SECONDS)
        if sys.stdin in readable and not os.read(0, 1):
            return  # the test session ended
        if listener in readable:
            connection, _ = listener.accept()
            request, fds = _read_request(connection)
            pid = os.fork()
            if pid == 0:
                _child(request, fds, [listener, connection, *waiting.values()])
            for fd in fds:
                os.close(fd)
            connection.sendall(f"pid {pid}\n".encode())
            waiting[pid] = connection
        _report_ended(waiting)


def _report_ended(waiting: dict[int, socket.socket]) -> None:
    while waiting:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        connection = waiting.pop(pid, None)
        if connection is not None:
            # A shim that was killed has nobody to tell.
            with contextlib.suppress(OSError):
                connection.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
            connection.close()


if __name__ == "__main__":
    serve(sys.argv[1])
