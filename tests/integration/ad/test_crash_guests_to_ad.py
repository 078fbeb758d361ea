"""Crash safety of the shadow accounts of cloud guests: a real ``hybridsync run`` process
is killed (SIGKILL) ten times, each time once its AD export has created a random few
accounts (a count the DC shows, not a time), then runs complete. Every guest must have
exactly one shadow account: an add whose answer was lost is read back, an add the store
never recorded finds its DN taken and joins the account there.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import ldap
import pytest
from tests.integration.ad.test_guests_to_ad import PASSWORD_ENV, GuestsDeployment
from tests.support.cloud_server import serve_cloud
from tests.support.preloaded import PreloadedPython, run_killed_at
from tests.support.samba import SambaDC

from hybridsync.wiring import build_from_file

pytestmark = [pytest.mark.samba, pytest.mark.slow]

GUESTS = 30
KILLS = 10


@pytest.fixture
def processes() -> Iterator[PreloadedPython]:
    """The runs to kill, forked from one process that imported hybridsync once."""
    modules = ["hybridsync.cli.run", "hybridsync.wiring", "hybridsync.engine"]
    modules += ["hybridsync.store.sqlite", "hybridsync.connectors.graph"]
    modules += ["hybridsync.connectors.ad"]
    with PreloadedPython(modules) as python:
        yield python


def killed_run(
    processes: PreloadedPython, config: Path, progress: Callable[[], int], rng: random.Random
) -> int:
    """Start a cycle and kill it once the DC holds a random 1-3 more shadow accounts (or
    once it ends, if it finishes first); returns how many it had created."""
    before = progress()
    cycle = rng.choice(["initial", "delta"])
    run_killed_at(processes, config, cycle, progress, before + rng.randint(1, 3))
    return progress() - before


def anchors(dc: SambaDC, ou: str) -> list[str]:
    found = dc.search(ou, "(objectClass=user)", scope=ldap.SCOPE_SUBTREE,
                      attributes=["msDS-ExternalDirectoryObjectId"])  # fmt: skip
    return [attrs.get("msDS-ExternalDirectoryObjectId", [b""])[0].decode() for _, attrs in found]


def test_killed_ten_times_in_ad_exports_leaves_one_shadow_account_per_guest(
    samba_dc: SambaDC, tmp_path: Path, ou: str, processes: PreloadedPython,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)
    rng = random.Random(20261208)
    with serve_cloud(tmp_path / "cloud") as server:
        root = tmp_path / "sync"
        root.mkdir()
        deployment = GuestsDeployment(root, samba_dc, server, ou, "[safety]\nbatch_size = 5\n")
        guests = [
            deployment.invite(f"guest{n:02d}@fabrikam.example", f"Guest {n:02d}")
            for n in range(GUESTS)
        ]

        def progress() -> int:
            return len(anchors(samba_dc, ou))

        created = [killed_run(processes, deployment.config, progress, rng) for _ in range(KILLS)]
        built = build_from_file(deployment.config)
        try:
            for cycle in ("initial", "delta"):
                report = built.engine.cycle(cycle)
                assert [e.message for run in report.runs for e in run.errors] == []
        finally:
            built.close()
    # The kills landed inside AD exports: runs that had created some accounts, not all.
    assert sum(1 for seen in created if 0 < seen < GUESTS) >= KILLS // 2, created
    found = Counter(anchors(samba_dc, ou))
    assert found == Counter(f"User_{guest}" for guest in guests)
