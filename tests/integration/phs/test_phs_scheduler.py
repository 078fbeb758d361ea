"""One process for both schedules: ``hybridsync scheduler`` with ``[password_hash_sync]``
enabled runs the delta cycles and password hash sync (Samba AD DC, served cloud), and
SIGTERM stops both."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.integration.phs import test_phs_end_to_end as end_to_end
from tests.integration.phs.accounts import samba_tool_setpassword
from tests.integration.phs.test_phs_end_to_end import PARTNER_NEW_PW, PARTNER_PW, World
from tests.support.daemon import Events
from tests.support.samba import SambaDC

pytestmark = [
    pytest.mark.samba,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning"),
]
world = end_to_end.world  # the same world, built for this module (its own users)
HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")


def test_the_scheduler_runs_password_hash_sync_and_sigterm_stops_both(
    world: World, samba_dc: SambaDC, tag: str
) -> None:
    text = world.config.read_text("utf-8")
    fast = text.replace("[password_hash_sync]\n", "[password_hash_sync]\ninterval_seconds = 5\n")
    world.config.write_text(fast, "utf-8")
    partner = f"pa-{tag}"
    argv = [HYBRIDSYNC, "--log-format", "json", "scheduler", "-c", str(world.config)]
    with subprocess.Popen(argv, cwd=world.root, stderr=subprocess.PIPE, text=True) as daemon:
        assert daemon.stderr is not None
        events = Events(daemon.stderr)
        try:
            events.until("scheduler.started", phs_enabled=True)
            events.until("phs.run.done", synced=1)
            assert world.signs_in(partner, PARTNER_PW)
            samba_tool_setpassword(samba_dc, partner, PARTNER_NEW_PW)
            events.until("phs.run.done", synced=1)  # a later PHS run
            assert world.signs_in(partner, PARTNER_NEW_PW)
            assert not world.signs_in(partner, PARTNER_PW)
            if not any(e["event"] == "scheduler.cycle_finished" for e in events.seen):
                events.until("scheduler.cycle_finished")
            daemon.send_signal(signal.SIGTERM)
            events.until("scheduler.stopped")
        except BaseException:
            daemon.kill()  # a failed test leaves no daemon behind
            raise
        assert daemon.wait(timeout=60) == 0
    names = [e["event"] for e in events.seen]
    assert names.index("scheduler.stopping") < names.index("phs.stopped")
    assert names.index("phs.stopped") < names.index("scheduler.stopped")
    assert names[-1] == "scheduler.stopped"
