"""``hybridsync serve`` as a real process between the Samba AD DC and the served cloud
directory: changes reach the cloud without any command, announced by the DC."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import ldap
import pytest
from tests.support.cloud_server import CloudTenant, serve_cloud
from tests.support.samba import SambaDC
from tests.support.serve import (
    Service,
    cloud_titles,
    new_user,
    serving,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.samba


@pytest.fixture(scope="module")
def tenant_and_config(
    samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CloudTenant, Path]]:
    root = tmp_path_factory.mktemp("serve-samba")
    with serve_cloud(root / "cloud") as server:
        yield write_config(samba_dc, root, server, "Serve")


@pytest.fixture(scope="module")
def service(samba_dc: SambaDC, tenant_and_config: tuple[CloudTenant, Path]) -> Iterator[Service]:
    with serving(samba_dc, tenant_and_config[1]) as running:
        yield running


def test_an_ad_change_reaches_the_cloud_without_a_command(
    samba_dc: SambaDC, tenant_and_config: tuple[CloudTenant, Path], service: Service
) -> None:
    tenant, _ = tenant_and_config
    dn, upn = new_user(samba_dc)
    wait_for(lambda: upn in cloud_titles(tenant), f"the new user {upn}")
    samba_dc.modify(dn, {"title": "Announced"})
    wait_for(lambda: cloud_titles(tenant).get(upn) == "Announced", f"{upn}'s new title")
    # The small cycles read AD's delta and the cloud's (which confirms the last export).
    small = service.runs()[5:]
    assert {(r["connector"], r["profile"]) for r in small if "import" in r["profile"]} == {
        ("ad", "delta-import"),
        ("cloud", "delta-import"),
    }


def test_a_burst_of_changes_is_a_handful_of_cycles(
    samba_dc: SambaDC, tenant_and_config: tuple[CloudTenant, Path], service: Service
) -> None:
    tenant, _ = tenant_and_config
    users = [new_user(samba_dc) for _ in range(20)]
    upns = {upn for _, upn in users}
    wait_for(lambda: upns <= set(cloud_titles(tenant)), "the burst's new users")
    before = len(service.cycles())
    started = time.monotonic()
    # Sent without waiting for each answer, as a bulk change in AD would arrive: the DC
    # writes them back to back however loaded the machine is.
    sent = [
        samba_dc.admin.modify_ext(dn, [(ldap.MOD_REPLACE, "title", [f"Burst {n}".encode()])])
        for n, (dn, _) in enumerate(users * 10)
    ]
    for msgid in sent:
        samba_dc.admin.result(msgid)
    burst_seconds = time.monotonic() - started
    final = {upn: f"Burst {180 + i}" for i, (_, upn) in enumerate(users)}
    wait_for(
        lambda: all(cloud_titles(tenant).get(u) == t for u, t in final.items()),
        "the last title of every user of the burst",
    )
    # While announcements keep coming, a cycle waits for the burst up to a second: at
    # most one cycle per second of the burst, and a few for its tail, for 200 changes.
    cycles = len(service.cycles()) - before
    assert cycles <= burst_seconds + 4, (cycles, burst_seconds, service.cycles()[before:])
    assert cycles <= 40, cycles  # at least five changes per cycle, whatever the load


def test_a_dc_restart_loses_no_change(
    samba_dc: SambaDC, tenant_and_config: tuple[CloudTenant, Path], service: Service
) -> None:
    tenant, _ = tenant_and_config
    dn, upn = new_user(samba_dc)
    wait_for(lambda: upn in cloud_titles(tenant), f"the new user {upn}")
    samba_dc.stop()
    try:
        service.events.until("service.notifications_lost", timeout=60, connector="ad")
    finally:
        samba_dc.start()
    # Changed at once, before the service is listening again: its first look after
    # reconnecting finds the change.
    samba_dc.modify(dn, {"title": "After the restart"})
    wait_for(
        lambda: cloud_titles(tenant).get(upn) == "After the restart",
        f"{upn}'s title changed right after the DC came back",
        service=service,
    )


def test_sigterm_in_a_burst_leaves_a_store_the_restarted_service_completes(
    samba_dc: SambaDC, tmp_path: Path
) -> None:
    with serve_cloud(tmp_path / "cloud") as server:
        tenant, config = write_config(samba_dc, tmp_path, server, "ServeStop")
        users = [new_user(samba_dc, "ServeStop") for _ in range(10)]
        upns = {upn for _, upn in users}
        with serving(samba_dc, config) as first:
            wait_for(lambda: upns <= set(cloud_titles(tenant)), "the users", service=first)
            for number, (dn, _) in enumerate(users * 5):
                samba_dc.modify(dn, {"title": f"Stopped {number}"})
            first.stop()  # while the burst's cycles run, or before they all did
        final = {upn: f"Stopped {40 + i}" for i, (_, upn) in enumerate(users)}
        with serving(samba_dc, config) as second:
            wait_for(
                lambda: all(cloud_titles(tenant).get(u) == t for u, t in final.items()),
                "every last title, after the restart",
                service=second,
            )
