"""The process behind ``tests.support.preloaded.PreloadedPython`` (run as a script).

Imports the modules named in its argument, answers ``{"ready": true}``, then for each
request line (JSON: argv, code, env, cwd, stdout, stderr) forks a child, answers
``{"pid": N}``, waits for the child and answers ``{"returncode": N}`` (``-S``: killed by
signal S, as ``subprocess`` reports it). Replies go to stdout, one JSON line each; the
child's output goes to the files the request names.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Any


def _reply(message: dict[str, Any]) -> None:
    os.write(1, json.dumps(message).encode() + b"\n")


def _exit_code(exit: SystemExit) -> int:
    """What the interpreter does with a ``SystemExit`` at the top level."""
    if exit.code is None:
        return 0
    if isinstance(exit.code, int):
        return exit.code
    print(exit.code, file=sys.stderr)
    return 1


def _child(request: dict[str, Any], reload: list[str]) -> None:
    """Become the requested run; never returns."""
    code = 1
    try:
        stdin = os.open(os.devnull, os.O_RDONLY)
        stdout = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        stderr = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for source, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(source, target)
            os.close(source)
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - kept for the process
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for name in reload:
            importlib.reload(sys.modules[name])
        sys.argv = list(request["argv"])
        try:
            exec(request["code"], {"__name__": "__main__"})  # the test's own code
            code = 0
        except SystemExit as exit:
            code = _exit_code(exit)
    except BaseException:  # reported as an uncaught exception would be
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    settings = json.loads(sys.argv[1])
    for name in [*settings["preload"], *settings["reload"]]:
        importlib.import_module(name)
    _reply({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request, settings["reload"])
        _reply({"pid": pid})
        _, status = os.waitpid(pid, 0)
        _reply({"returncode": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    main()
