"""Private loopback addresses, so several test servers can use the standard ports at once.

A server that must listen on fixed ports (a domain controller: 389, 636, 445, 88...) gets
its own ``127.0.0.N``. Linux answers on all of 127/8 but a server binds only addresses an
interface carries, so the address is added to ``lo`` and removed afterwards.

Claiming is safe across processes and worktrees: each address has a lock file held with
``flock`` for as long as it is in use (the kernel releases it if the process dies), and an
address already present on ``lo`` is never taken (someone else, or a crashed run, owns it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LoopbackUnavailableError", "claim_loopback_address"]

LOCK_DIR = Path("/tmp/hybridsync-loopback")
FIRST, LAST = 100, 199  # 127.0.0.100-199; other addresses are left to people's own servers


class LoopbackUnavailableError(RuntimeError):
    """No loopback address could be claimed (not root, or all of them busy)."""


def _addresses_on_lo() -> set[str]:
    out = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "dev", "lo"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {field.split("/")[0] for line in out.splitlines() for field in line.split()[3:4]}


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], check=False, capture_output=True, text=True)


@contextlib.contextmanager
def claim_loopback_address() -> Iterator[str]:
    """Yield a fresh ``127.0.0.N`` carried by ``lo``; remove it on exit."""
    if os.geteuid() != 0:
        raise LoopbackUnavailableError("adding a loopback address needs root")
    LOCK_DIR.mkdir(mode=0o1777, exist_ok=True)
    candidates = list(range(FIRST, LAST + 1))
    random.shuffle(candidates)  # concurrent runs rarely race for the same address
    present = _addresses_on_lo()
    for n in candidates:
        address = f"127.0.0.{n}"
        if address in present:
            continue
        lock = (LOCK_DIR / f"{address}.lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        if _ip("addr", "add", f"{address}/32", "dev", "lo").returncode != 0:
            lock.close()  # added by someone who does not use our locks
            continue
        try:
            yield address
        finally:
            _ip("addr", "del", f"{address}/32", "dev", "lo")
            lock.close()
        return
    raise LoopbackUnavailableError(f"every address 127.0.0.{FIRST}-{LAST} is in use")
