"""SIGTERM on the other daemons, as real processes: ``hybridsync phs loop`` and
``hybridsync agent run`` stop through the same helper as the scheduler (``stopping.
stopped_by_signals``): promptly, with exit status 0 and their stop logged."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.product.test_stop import HYBRIDSYNC
from tests.support.cloud_server import CloudServer, CloudTenant, serve_cloud
from tests.support.daemon import Events
from tests.support.phs_config import PHS_SECTION, UNREACHABLE_CONNECTORS
from tests.support.signin import admin_token

from hybridsync.agent.register import register_agent
from hybridsync.agent.runner import AgentRunner
from hybridsync.agent.state import load_state
from hybridsync.cloud.signin.service import signin_of

pytestmark = pytest.mark.slow
PROMPTLY = 10.0
"""Seconds a stop may take: less than the agent's 20 s long poll or a PHS interval."""

# Nothing listens on port 1: every PHS run fails at once and the loop retries it, the
# way it waits out a DC outage.
PHS_CONFIG = (
    'store = "state.db"\n'
    + UNREACHABLE_CONNECTORS.format(target="hybridsync")
    + PHS_SECTION.format(source="ad")
)
ENV = {
    **os.environ,
    "PYTHONUNBUFFERED": "1",
    "TEST_AD_PASSWORD": "ad-password",
    "TEST_PHS_PASSWORD": "phs-password",
}


def start(argv: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [HYBRIDSYNC, "--log-format", "json", *argv],
        cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def stop_and_wait(
    process: subprocess.Popen[str], events: Events, stopped: str, signum: int = signal.SIGTERM
) -> float:
    """Send ``signum``, then the seconds until the process logged ``stopped`` and exited."""
    sent = time.monotonic()
    process.send_signal(signum)
    events.until(stopped, timeout=PROMPTLY)
    process.wait(timeout=PROMPTLY)
    return time.monotonic() - sent


@pytest.fixture
def phs_config(tmp_path: Path) -> Path:
    config = tmp_path / "hybridsync.toml"
    config.write_text(PHS_CONFIG, encoding="utf-8")
    return config


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_phs_loop_with_status_0(phs_config: Path, signum: int) -> None:
    argv = ["phs", "loop", "-c", str(phs_config), "--interval", "30"]
    with start(argv, phs_config.parent) as process:
        assert process.stderr is not None
        events = Events(process.stderr)
        try:
            events.until("phs.run.failed")  # one run done, now waiting 30 s for the next
            took = stop_and_wait(process, events, "phs.stopped", signum)
        except BaseException:
            process.kill()
            raise
    assert process.returncode == 0
    assert took < PROMPTLY
    names = [e["event"] for e in events.seen]
    assert names.index("phs.stopping") < names.index("phs.stopped")
    assert names.count("phs.run.failed") == 1  # no run started after the signal


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[CloudServer]:
    with serve_cloud(tmp_path / "cloud") as server:
        yield server


@pytest.fixture
def registered_agent(cloud: CloudServer, tmp_path: Path) -> tuple[CloudTenant, Path, str]:
    """A tenant, the registered agent's state directory, and the agent's id."""
    tenant = cloud.new_tenant("contoso.com")
    state = register_agent(
        tmp_path / "agent-state",
        cloud_url=cloud.base_url,
        tenant=tenant.id,
        token=admin_token(tenant),
        ca_file=cloud.ca_path,
        machine_name="agent-signals",
    )
    return tenant, tmp_path / "agent-state", state.agent_id


def test_sigterm_stops_the_agent_with_status_0_without_waiting_for_its_long_poll(
    registered_agent: tuple[CloudTenant, Path, str], tmp_path: Path
) -> None:
    tenant, state_dir, agent_id = registered_agent
    ad = tmp_path / "agent.toml"  # AD is reached only to check a password: none comes
    ad.write_text(
        '[ad]\nurl = "ldaps://127.0.0.1:1"\nbind_user = "svc@contoso.com"\n'
        'password_env = "TEST_AD_PASSWORD"\n',
        encoding="utf-8",
    )
    workers = 4
    argv = ["agent", "run", "--ad-config", str(ad), "--state-dir", str(state_dir),
            "--workers", str(workers)]  # fmt: skip
    queue = signin_of(tenant.server.service).pta
    with start(argv, tmp_path) as process:
        assert process.stderr is not None
        events = Events(process.stderr)
        try:
            deadline = time.monotonic() + 30
            # Stopped only once every worker is inside its 20 s long poll (the cloud counts them).
            while queue.waiting_polls(agent_id) < workers:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the agent's workers never all polled"
                time.sleep(0.05)
            took = stop_and_wait(process, events, "agent.stopped")
        except BaseException:
            process.kill()
            raise
    assert process.returncode == 0
    assert took < PROMPTLY
    assert [e["event"] for e in events.seen][-2:] == ["agent.stopping", "agent.stopped"]


def test_an_agent_stopping_still_posts_the_answer_it_is_validating(
    registered_agent: tuple[CloudTenant, Path, str],
) -> None:
    tenant, state_dir, _ = registered_agent
    validating, release = threading.Event(), threading.Event()

    def slow_checker(anchor: str, password: str) -> str:
        validating.set()
        release.wait(5)
        return "success" if (anchor, password) == ("anchor-1", "Pa$$w0rd") else "invalid"

    runner = AgentRunner(load_state(state_dir), slow_checker, workers=2, poll_seconds=20.0)
    queue = signin_of(tenant.server.service).pta
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while not queue.connected_agents(tenant.id):
            assert time.monotonic() < deadline, "the agent never polled"
            time.sleep(0.02)
        outcomes: list[str] = []
        signin = threading.Thread(
            target=lambda: outcomes.append(
                queue.validate(tenant.id, "ann@contoso.com", "anchor-1", "Pa$$w0rd")
            )
        )
        signin.start()
        assert validating.wait(10)
        stopping = threading.Thread(target=runner.stop, kwargs={"wait_for_polls": False})
        stopping.start()
        stopping.join(0.3)
        assert stopping.is_alive()  # it waits for the answer being validated...
        release.set()
        stopping.join(10)
        assert not stopping.is_alive()  # ...and no longer: the other worker is still polling
        signin.join(10)
    finally:
        release.set()
        runner.stop(wait_for_polls=False)
        queue.close()  # release the idle long poll now, so every worker ends in this test
        runner.stop()
    assert outcomes == ["success"]
