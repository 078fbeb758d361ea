"""The shell examples of the docs, as tests.

Every fenced block of README.md and docs/*.md whose info string holds the word
``runnable`` runs:

- ```` ```sh runnable ````: one command a line (``\\`` continues a line), in order with
  the document's other runnable blocks, in one fresh directory, with the project's
  ``hybridsync`` first on PATH. A command must exit 0, unless the line ends with
  ``# exit: N``. ``export NAME=VALUE`` sets the variable for the lines after it
  (``NAME=...``, a secret the reader fills in, takes the test's value). A line ending
  with ``# runs until stopped`` is a server: it runs in the background (from the moment
  it listens, with ``--port N``) until the commands are done, and must still be running
  then.
  The documented port 8443 becomes a free port. ``uv run`` and a leading
  ``python3 -m pip install uv &&`` are dropped: the suite runs inside the project's
  environment.
- ```` ```console runnable ````: a session. ``$ COMMAND`` runs as above, and the lines
  after it, up to the next ``$``, are exactly what it prints on stdout.
- ```` ```sh runnable fixture=NAME ````: needs what only a test fixture provides (a Samba
  AD DC, a served cloud directory). The test that owns the fixture (``FIXTURES``) runs
  these blocks through ``DocShell``, with the fixture's addresses and secrets in place
  of the documented ones.

Any other block that shows a ``hybridsync`` command fails ``test_runnable_examples``:
a block that is not meant to run (a synopsis, an output sample, a unit file) uses
another fence language (``text``, ``ini``...).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO_ROOT

FIXTURES = {
    "walkthrough": "tests/integration/e2e/test_walkthrough.py",
    "signin-agent": "tests/integration/signin/test_agent_cli.py",
}
"""Blocks that need a fixture -> the test that runs them."""
SHELLS = {"", "sh", "bash", "shell", "console"}
DOCUMENTED_PORT = "8443"
PLACEHOLDER = "..."
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_EXIT = re.compile(r"\s+#\s*exit:\s*(\d+)\s*$")
_SERVER = re.compile(r"\s+#\s*runs until stopped\s*$")
_DROPPED = re.compile(r"^python3 -m pip install uv && |(?<![\w-])uv run (?=hybridsync\b)")
_COMMAND = re.compile(r"^(\$ )?(\w+=\S* )*(uv run )?hybridsync\b", re.MULTILINE)
BIN = Path(sys.executable).parent


@dataclass(frozen=True, slots=True)
class Command:
    line: str
    exit_status: int = 0
    output: str | None = None
    """A console session's expected stdout; ``None``: not checked."""
    server: bool = False


@dataclass(frozen=True, slots=True)
class Block:
    document: Path
    line: int
    info: str
    text: str

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    @property
    def runnable(self) -> bool:
        return "runnable" in self.info.split()

    @property
    def fixture(self) -> str | None:
        for word in self.info.split():
            if word.startswith("fixture="):
                return word.removeprefix("fixture=")
        return None

    @property
    def shows_a_command(self) -> bool:
        """A shell block with a line that runs ``hybridsync``."""
        return self.language in SHELLS and _COMMAND.search(self.text) is not None

    def where(self) -> str:
        return f"{self.document.relative_to(REPO_ROOT)}:{self.line}"

    def commands(self) -> list[Command]:
        if self.language == "console":
            return _session(self.text)
        found: list[Command] = []
        for line in self.text.replace("\\\n", " ").splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                found.append(_command(stripped))
        return found


def _command(line: str, output: str | None = None) -> Command:
    match = _EXIT.search(line)
    status = int(match.group(1)) if match else 0
    line = _EXIT.sub("", line)
    server = _SERVER.search(line) is not None
    return Command(_SERVER.sub("", line), status, output, server)


def _session(text: str) -> list[Command]:
    found: list[Command] = []
    for part in re.split(r"^\$ ", text, flags=re.MULTILINE)[1:]:
        line, _, output = part.partition("\n")
        found.append(_command(line.strip(), output))
    return found


def documents() -> list[Path]:
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def blocks(document: Path) -> list[Block]:
    text = document.read_text(encoding="utf-8")
    return [
        Block(document, text.count("\n", 0, m.start()) + 1, m.group(1).strip(), m.group(2))
        for m in _FENCE.finditer(text)
    ]


def runnable_blocks(document: Path, fixture: str | None = None) -> list[Block]:
    """The document's runnable blocks needing ``fixture`` (``None``: none), in order."""
    return [b for b in blocks(document) if b.runnable and b.fixture == fixture]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class DocShell:
    """Runs documented commands one after the other in ``cwd``, as a reader would."""

    cwd: Path
    substitutions: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    servers: list[tuple[Command, subprocess.Popen[bytes]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        base = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        base.pop("HYBRIDSYNC_CONFIG", None)
        self.env = {**base, **self.env}
        self.substitutions.setdefault(DOCUMENTED_PORT, str(free_port()))

    def prepare(self, line: str) -> str:
        line = _DROPPED.sub("", line)
        for documented, actual in self.substitutions.items():
            line = line.replace(documented, actual)
        return line

    def run(self, command: Command) -> subprocess.CompletedProcess[str] | None:
        """Run one command (its result; ``None`` for an export or a server); an
        ``AssertionError`` says which and why when it fails."""
        line = self.prepare(command.line)
        words = shlex.split(line, comments=True)
        if words and words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                if value == PLACEHOLDER:  # a secret the reader fills in: the fixture's
                    assert name in self.env, f"`{line}`: the test gives no {name}"
                    continue
                self.env[name] = value
            return None
        if command.server:
            self._serve(command, line)
            return None
        done = subprocess.run(
            ["bash", "-c", line], cwd=self.cwd, env=self.env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == command.exit_status, (
            f"`{line}` exited {done.returncode}, expected {command.exit_status}\n"
            f"{done.stdout}\n{done.stderr}"
        )
        if command.output is not None:
            assert done.stdout == command.output, f"`{line}` printed:\n{done.stdout}"
        return done

    def _serve(self, command: Command, line: str) -> None:
        """Start a server; with ``--port``, wait until it listens (else the caller waits)."""
        port = re.search(r"--port[ =](\d+)", line)
        log = (self.cwd / f"server-{len(self.servers)}.log").open("wb")
        process = subprocess.Popen(
            ["bash", "-c", f"exec {line}"], cwd=self.cwd, env=self.env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        self.servers.append((command, process))
        deadline = time.monotonic() + 60
        while port is not None and not _answers(int(port.group(1))):
            assert process.poll() is None, f"`{line}` ended:\n{self._log(len(self.servers) - 1)}"
            assert time.monotonic() < deadline, f"`{line}` did not start listening"
            time.sleep(0.1)

    def _log(self, index: int) -> str:
        return (self.cwd / f"server-{index}.log").read_text(errors="replace")

    def close(self) -> None:
        """Stop the servers; each must still have been running."""
        failures = []
        for index, (command, process) in enumerate(self.servers):
            if process.poll() is not None:
                failures.append(f"`{command.line}` stopped early:\n{self._log(index)}")
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.servers.clear()
        assert not failures, failures


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
