"""``hybridsync migrate verify`` on real components end to end: the Samba AD DC and the
served cloud directory. A tenant one run wrote shows no differences under the same
configuration; a changed rule shows exactly the attribute it changes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.cloud_server import CloudTenant, graph_connector_toml, serve_cloud
from tests.support.samba import SambaDC, ad_connector_toml
from tests.support.verify import departments, with_changed_rule
from tests.support.workspace import invoke

from hybridsync.wiring import build_from_file

pytestmark = pytest.mark.samba
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"


@pytest.fixture(scope="module")
def populated(
    samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, CloudTenant]]:
    """A tenant one run from the session's DC wrote into; the configuration's path."""
    root = tmp_path_factory.mktemp("verify-samba")
    os.environ[PASSWORD_ENV] = samba_dc.admin_password
    try:
        with serve_cloud(root / "cloud") as server:
            tenant = server.new_tenant("contoso.com")
            ous = [samba_dc.ou("Staff"), samba_dc.ou("Partners")]
            config = root / "hybridsync.toml"
            config.write_text(
                'store = "state.db"\n[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'
                '[user_type]\nsource = "attribute"\n'
                + ad_connector_toml(samba_dc, PASSWORD_ENV, ous)
                + graph_connector_toml(server, tenant, root),
                encoding="utf-8",
            )
            built = build_from_file(config)
            try:
                cycle = built.engine.cycle("initial")
            finally:
                built.close()
            assert [str(error) for run in cycle.runs for error in run.errors] == []
            yield config, tenant
    finally:
        os.environ.pop(PASSWORD_ENV, None)


def test_the_configuration_that_wrote_the_tenant_shows_no_differences(
    populated: tuple[Path, CloudTenant],
) -> None:
    config, _ = populated
    code, output = invoke("migrate", "verify", "-c", str(config), "--json")
    assert code == 0, output
    document = json.loads(output)
    assert (document["changes"], document["unjoined"], document["errors"]) == ([], [], [])


def test_a_changed_rule_lists_exactly_its_attribute_for_each_user_it_changes(
    populated: tuple[Path, CloudTenant],
) -> None:
    config, tenant = populated
    cloud_before = departments(tenant)
    sales = {upn for upn, department in cloud_before.items() if department == "Sales"}
    assert len(sales) > 1
    code, output = invoke("migrate", "verify", "-c", str(with_changed_rule(config)), "--json")
    assert code == 1, output
    document = json.loads(output)
    assert (document["unjoined"], document["errors"]) == ([], [])
    assert {change["user_principal_name"] for change in document["changes"]} == sales
    for change in document["changes"]:
        assert change["kind"] == "update"
        assert change["attributes"] == [
            {"name": "department", "before": ["Sales"], "after": ["Sales EMEA"]}
        ]
    assert departments(tenant) == cloud_before  # nothing was exported
