"""``hybridsync sync OBJECT`` between the Samba AD DC and the served cloud directory: in
this process, and through a running ``hybridsync serve``; the real command each time."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.support.cloud_server import CloudTenant, serve_cloud
from tests.support.samba import SambaDC
from tests.support.serve import (
    HYBRIDSYNC,
    PASSWORD_ENV,
    cloud_titles,
    new_user,
    serving,
    wait_for,
    write_config,
)

from hybridsync.cli import exit_codes
from hybridsync.cli.runlock import sync_lock

pytestmark = pytest.mark.samba
OU = "OnDemand"


def hybridsync(dc: SambaDC, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, PASSWORD_ENV: dc.admin_password}
    return subprocess.run(
        [HYBRIDSYNC, *args, "-c", str(config)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def sync_json(dc: SambaDC, config: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = hybridsync(dc, config, "sync", *args, "--json")
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"not JSON (exit {done.returncode}): {done.stdout}\n{done.stderr}")


@pytest.fixture(scope="module")
def synced(
    samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CloudTenant, Path]]:
    """A configuration syncing the OU into a tenant of its own, after its initial cycle."""
    root = tmp_path_factory.mktemp("sync-object")
    with serve_cloud(root / "cloud") as server:
        tenant, config = write_config(samba_dc, root, server, OU)
        done = hybridsync(samba_dc, config, "run", "initial")
        assert done.returncode == 0, done.stdout + done.stderr
        yield tenant, config


def test_a_changed_user_is_exported_and_each_step_reported(
    samba_dc: SambaDC, synced: tuple[CloudTenant, Path]
) -> None:
    tenant, config = synced
    dn, upn = new_user(samba_dc, OU)
    assert hybridsync(samba_dc, config, "run", "delta").returncode == 0
    samba_dc.modify(dn, {"title": "On demand"})

    code, report = sync_json(samba_dc, config, upn, "--admin", "off")

    assert code == exit_codes.SUCCESS, report
    assert report["status"] == "synced"
    assert report["import"]["dn"] == dn
    assert report["import"]["values"]["title"] == ["On demand"]
    assert report["scope"]["in_scope"] is True
    assert report["scope"]["join"]["action"] == "keep"
    [change] = [c for c in report["metaverse"]["changes"] if c["attribute"] == "jobTitle"]
    assert (change["before"], change["after"]) == ([], ["On demand"])
    assert change["rule"] == "In from AD - User Common"
    [export] = report["export"]
    assert (export["target"], export["action"], export["outcome"]) == ("cloud", "update", "ok")
    assert export["attributes"] == {"jobTitle": ["On demand"]}
    assert export["confirmed"] is True
    assert cloud_titles(tenant)[upn] == "On demand"
    assert export["target_id"] == tenant.property_by_upn("id")[upn]


def test_a_new_user_by_dn_is_added_to_the_cloud(
    samba_dc: SambaDC, synced: tuple[CloudTenant, Path]
) -> None:
    tenant, config = synced
    dn, upn = new_user(samba_dc, OU)

    code, report = sync_json(samba_dc, config, dn, "--admin", "off")

    assert code == exit_codes.SUCCESS, report
    assert (report["import"]["change"], report["scope"]["join"]["action"]) == ("added", "project")
    [export] = report["export"]
    assert (export["action"], export["outcome"], export["confirmed"]) == ("add", "ok", True)
    assert export["attributes"]["userPrincipalName"] == [upn]
    assert upn in cloud_titles(tenant)


def test_users_out_of_scope_say_why_and_nothing_is_exported(
    samba_dc: SambaDC, synced: tuple[CloudTenant, Path]
) -> None:
    tenant, config = synced
    sam = f"od{uuid.uuid4().hex[:8]}"
    samba_dc.add_user(sam, upn=f"{sam}@contoso.com", ou_dn=samba_dc.ou(OU),
                      attributes={"adminDescription": "User_shadow"})  # fmt: skip
    elsewhere = samba_dc.add_user(f"{sam}x", upn=f"{sam}x@contoso.com")  # CN=Users: not synced

    code, report = sync_json(samba_dc, config, f"{sam}@contoso.com", "--admin", "off")
    assert code == exit_codes.SUCCESS, report
    assert report["scope"]["in_scope"] is False
    failed = [text for rule in report["scope"]["rules_out_of_scope"] for text in rule["failed"]]
    assert any("adminDescription NOTSTARTSWITH 'User_'" in text for text in failed), failed
    assert (report["status"], report["export"]) == ("nothing-to-export", [])

    code, report = sync_json(samba_dc, config, elsewhere, "--admin", "off")
    assert code == exit_codes.SUCCESS, report
    assert report["status"] == "out-of-scope"
    assert "outside the connector's OUs" in report["scope"]["reason"]
    assert report["runs"] == []
    upns = cloud_titles(tenant)
    assert f"{sam}@contoso.com" not in upns
    assert f"{sam}x@contoso.com" not in upns


UNKNOWN_KEYS = ["nobody@contoso.com", "*@contoso.com", "*)(objectClass=*",
                "*)(userPrincipalName=*", "CN=Nobody,OU=OnDemand,DC=x"]  # fmt: skip
"""An unknown UPN and DN, and filter syntax that would match every user unescaped."""


@pytest.mark.parametrize("key", UNKNOWN_KEYS)
def test_an_unknown_key_or_a_filter_is_not_found(
    samba_dc: SambaDC, synced: tuple[CloudTenant, Path], key: str
) -> None:
    _, config = synced
    done = hybridsync(samba_dc, config, "sync", key, "--admin", "off")
    assert done.returncode == exit_codes.NOT_FOUND, done.stdout + done.stderr
    assert "no object with the DN, UPN or anchor" in done.stderr


def test_staging_mode_shows_the_change_and_exports_nothing(
    samba_dc: SambaDC, synced: tuple[CloudTenant, Path]
) -> None:
    tenant, config = synced
    dn, upn = new_user(samba_dc, OU)
    assert sync_json(samba_dc, config, upn, "--admin", "off")[0] == 0
    samba_dc.modify(dn, {"title": "Staged"})

    code, report = sync_json(samba_dc, config, upn, "--admin", "off", "--staging")

    assert code == exit_codes.SUCCESS, report
    assert report["status"] == "staging"
    [export] = report["export"]
    assert export["attributes"] == {"jobTitle": ["Staged"]}
    assert export["outcome"] == "not sent (staging mode)"
    assert cloud_titles(tenant)[upn] is None


def test_through_a_running_service(samba_dc: SambaDC, tmp_path: Path) -> None:
    with serve_cloud(tmp_path / "cloud") as server:
        tenant, config = write_config(samba_dc, tmp_path, server, "OnDemandServe")
        dn, upn = new_user(samba_dc, "OnDemandServe")
        with serving(samba_dc, config) as service:
            wait_for(lambda: upn in cloud_titles(tenant), f"the new user {upn}", service=service)
            export = changed_through_the_service(samba_dc, config, service, dn, upn)
            assert export["attributes"] == {"jobTitle": [export["title"]]}
            assert (export["outcome"], export["confirmed"]) == ("ok", True)
            assert cloud_titles(tenant)[upn] == export["title"]
            missing = hybridsync(samba_dc, config, "sync", "nobody@contoso.com",
                                 "--admin", service.admin_url)  # fmt: skip
            assert missing.returncode == exit_codes.NOT_FOUND, missing.stderr
            # The announced change's small cycle follows the request (the change is in AD's
            # delta still: an on-demand import leaves the watermark); once it ended, the
            # on-demand runs are counted like the cycles': /metrics equals the history.
            service.events.until("scheduler.cycle_finished", timeout=60)
            assert runs_counted(service.admin_url) == runs_stored(samba_dc, config)


def changed_through_the_service(
    samba_dc: SambaDC, config: Path, service: Any, dn: str, upn: str
) -> dict[str, Any]:
    """A change to ``dn`` that the request, not one of the service's own cycles, exports:
    the export step of the report, with the ``title`` set.

    The store's lock is held while the change is made: the announced change's small cycle
    is skipped, so the object waits for the service's next wake, which the request is.
    Samba may announce one change twice, and a second announcement arriving after the lock
    is released wakes a cycle that exports the change first: then try again.
    """
    for attempt in range(3):
        title = f"Through the service {attempt}"
        with sync_lock(config.parent / "state.db", "test: hold the service's cycles"):
            samba_dc.modify(dn, {"title": title})
            service.events.until("service.cycle_skipped", timeout=60)
        code, report = sync_json(samba_dc, config, upn, "--admin", service.admin_url)
        assert code == exit_codes.SUCCESS, report
        if report["export"]:
            [export] = report["export"]
            return {**export, "title": title}
    pytest.fail(f"the service's own cycles exported each of 3 changes first: {report}")


def runs_counted(url: str) -> collections.Counter[tuple[str, str, str]]:
    """``hybridsync_runs_total`` by labels, parsed by prometheus-client's own parser."""
    counted: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text):
        for sample in family.samples:
            if sample.name == "hybridsync_runs_total":
                labels = sample.labels
                counted[(labels["connector"], labels["profile"], labels["status"])] += int(
                    sample.value
                )
    return counted


def runs_stored(dc: SambaDC, config: Path) -> collections.Counter[tuple[str, str, str]]:
    done = hybridsync(dc, config, "history", "--json", "--limit", "1000")
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    return collections.Counter((r["connector"], r["profile"], r["status"]) for r in runs)
