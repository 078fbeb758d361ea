"""The service's change-to-export histogram on Samba: one observation per exported
change, measured from the change's whenChanged, and of a plausible size."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.support.cloud_server import serve_cloud
from tests.support.samba import SambaDC
from tests.support.serve import cloud_titles, new_user, serving, wait_for, write_config

pytestmark = pytest.mark.samba
HISTOGRAM = "hybridsync_change_to_export_seconds"
CHANGES = 3


def histogram(url: str) -> dict[str, float]:
    """The histogram's samples (``_count``, ``_sum``, ``_bucket`` by ``le``), parsed by
    prometheus-client's own parser."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    [family] = [f for f in text_string_to_metric_families(text) if f.name == HISTOGRAM]
    return {
        sample.name.removeprefix(HISTOGRAM) + sample.labels.get("le", ""): sample.value
        for sample in family.samples
    }


def test_each_exported_change_is_observed_from_its_whenchanged(
    samba_dc: SambaDC, tmp_path: Path
) -> None:
    with serve_cloud(tmp_path / "cloud") as server:
        tenant, config = write_config(samba_dc, tmp_path, server, "Latency")
        users = [new_user(samba_dc, "Latency") for _ in range(CHANGES)]
        with serving(samba_dc, config) as service:
            upns = {upn for _, upn in users}
            wait_for(lambda: upns <= set(cloud_titles(tenant)), "the users", service=service)
            before = histogram(service.admin_url)
            for number, (dn, _) in enumerate(users):
                samba_dc.modify(dn, {"title": f"Latency {number}"})
            final = {upn: f"Latency {number}" for number, (_, upn) in enumerate(users)}
            wait_for(lambda: all(cloud_titles(tenant).get(u) == t for u, t in final.items()),
                     "every new title", service=service)  # fmt: skip
            # Observed when the exporting cycle ends, just after the cloud shows the value.
            wait_for(lambda: histogram(service.admin_url)["_count"] - before["_count"] >= CHANGES,
                     "the observations", service=service)  # fmt: skip
            after = histogram(service.admin_url)
    assert after["_count"] - before["_count"] == CHANGES, (before, after)
    added = after["_sum"] - before["_sum"]
    # whenChanged counts whole seconds: each observation is the real time plus under 1 s.
    assert 0 <= added < CHANGES * 5.0, added
    assert after["_bucket5.0"] - before["_bucket5.0"] == CHANGES, (before, after)
