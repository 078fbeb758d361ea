"""``hybridsync migrate verify`` against the served cloud directory: a tenant populated
by one run of a configuration shows no differences under the same rules, and a changed
rule shows exactly the attribute it changes, for each user it changes it for."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.cloud_server import CloudTenant, graph_connector_toml, serve_cloud
from tests.support.verify import CHANGED_RULE, departments, with_changed_rule
from tests.support.workspace import invoke, ldif_to_graph

from hybridsync.wiring import build_from_file


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, CloudTenant]]:
    """A tenant one real run of the configuration wrote into; the configuration's path."""
    root = tmp_path_factory.mktemp("verify")
    with serve_cloud(root / "cloud") as server:
        tenant = server.new_tenant("contoso.com")
        config = ldif_to_graph(root, graph_connector_toml(server, tenant, root))
        built = build_from_file(config)
        try:
            cycle = built.engine.cycle("initial")
        finally:
            built.close()
        assert [error for run in cycle.runs for error in run.errors] == []
        yield config, tenant


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_configuration_that_wrote_the_tenant_shows_no_differences(
    populated: tuple[Path, CloudTenant],
) -> None:
    config, _ = populated
    store = config.parent / "state.db"
    before = digest(store)
    code, output = invoke("migrate", "verify", "-c", str(config))
    assert code == 0, output
    assert output == "No differences: hybridsync would change nothing in the cloud.\n"
    code, output = invoke("migrate", "verify", "-c", str(config), "--json")
    assert code == 0, output
    document = json.loads(output)
    assert document["summary"] == {}
    assert (document["changes"], document["unjoined"], document["errors"]) == ([], [], [])
    assert digest(store) == before  # the configured store is neither read nor written


def test_the_configured_store_is_never_opened(populated: tuple[Path, CloudTenant]) -> None:
    """A configuration whose store cannot be reached verifies all the same: a verify
    keeps its own store."""
    config, _ = populated
    elsewhere = config.parent / "store-elsewhere.toml"
    text = config.read_text("utf-8")
    unreachable_store = 'store = "postgresql+psycopg://hybridsync@127.0.0.1:1/hybridsync"'
    elsewhere.write_text(text.replace('store = "state.db"', unreachable_store, 1), "utf-8")
    assert unreachable_store in elsewhere.read_text("utf-8")
    code, output = invoke("migrate", "verify", "-c", str(elsewhere))
    assert code == 0, output
    code, output = invoke("plan", "-c", str(elsewhere))  # a real run opens it
    assert code == 3, output
    assert "cannot connect to the store" in output


def test_a_changed_rule_lists_exactly_its_attribute_for_each_user_it_changes(
    populated: tuple[Path, CloudTenant],
) -> None:
    config, tenant = populated
    cloud_before = departments(tenant)
    sales = {upn for upn, department in cloud_before.items() if department == "Sales"}
    assert len(sales) > 1
    changed = with_changed_rule(config)

    code, output = invoke("migrate", "verify", "-c", str(changed), "--json")
    assert code == 1, output
    document = json.loads(output)
    assert (document["errors"], document["unjoined"]) == ([], [])
    assert document["summary"] == {"update": len(sales)}
    changes: list[dict[str, Any]] = document["changes"]
    assert {change["user_principal_name"] for change in changes} == sales
    for change in changes:
        assert change["connector"] == "cloud"
        assert change["dn"].startswith("CN=")  # the DN and anchor are in --json
        assert change["anchor"]
        assert change["attributes"] == [
            {"name": "department", "before": ["Sales"], "after": ["Sales EMEA"]}
        ]

    code, output = invoke("migrate", "verify", "-c", str(changed))
    assert code == 1, output
    assert "update  cloud: William Moran <wmoran@contoso.com>\n" in output
    assert output.count("    department: Sales -> Sales EMEA\n") == len(sales)
    assert f"{len(sales)} objects would change, 0 synced objects no source" in output
    assert departments(tenant) == cloud_before  # nothing was exported


def test_a_missing_configuration_is_a_configuration_error(tmp_path: Path) -> None:
    code, output = invoke("migrate", "verify", "-c", str(tmp_path / "missing.toml"))
    assert code == 3, output
    assert "missing.toml" in output


def with_source(config: Path, folder: str, ldif: str) -> Path:
    """The same configuration, in ``folder`` beside it, reading ``ldif``."""
    root = config.parent / folder
    root.mkdir()
    (root / "ad.ldif").write_text(ldif, "utf-8")
    for name in ("hybridsync.toml", "graph.secret"):
        (root / name).write_bytes((config.parent / name).read_bytes())
    return root / "hybridsync.toml"


def with_one_user_replaced(config: Path) -> Path:
    """The same configuration reading an LDIF where William Moran is gone and Zoe Young,
    a new user shaped like Amy Turner, is there."""
    entries = (config.parent / "ad.ldif").read_text("utf-8").split("\n\n")
    kept = [entry for entry in entries if "CN=William Moran," not in entry]
    amy = next(entry for entry in entries if entry.startswith("dn: CN=Amy Turner,"))
    zoe = (
        amy.replace("Amy Turner", "Zoe Young")
        .replace("aturner", "zyoung")
        .replace("Turner", "Young")
        .replace("Amy", "Zoe")
        .replace("objectGUID:: k0r6mYPnY1KdjgfIH/jO5A==", "objectGUID:: 7xN0ZWQtbmV3LXVzZXIhIQ==")
        .replace("3PTcO4M9K0aCi6YoTgQAAA==", "3PTcO4M9K0aCi6YoAAUAAA==")
    )
    return with_source(config, "replaced", "\n\n".join([*kept, zoe]))


def test_a_new_user_is_an_add_and_a_synced_user_gone_from_the_source_is_named(
    populated: tuple[Path, CloudTenant],
) -> None:
    config, _ = populated
    replaced = with_one_user_replaced(config)
    code, output = invoke("migrate", "verify", "-c", str(replaced))
    assert code == 1, output
    assert "add     cloud: Zoe Young <zyoung@contoso.com>\n" in output
    assert "    department: (none) -> Sales\n" in output
    # No export deletes what nothing joins: verify names it instead.
    assert "unjoined cloud: William Moran <wmoran@contoso.com>\n" in output
    assert "1 objects would change, 1 synced objects no source object joins" in output
    code, output = invoke("migrate", "verify", "-c", str(replaced), "--json")
    document = json.loads(output)
    assert document["summary"] == {"add": 1}
    (added,) = document["changes"]
    assert added["user_principal_name"] == "zyoung@contoso.com"
    (unjoined,) = document["unjoined"]
    assert unjoined["user_principal_name"] == "wmoran@contoso.com"
    assert unjoined["anchor"]


def test_an_object_error_is_a_difference_listed_with_its_object(
    populated: tuple[Path, CloudTenant],
) -> None:
    config, _ = populated
    rule = (
        CHANGED_RULE.replace("Department constant", "Department refused")
        .replace(
            '"department", operator = "EQUAL", value = "Sales"',
            '"sAMAccountName", operator = "EQUAL", value = "wmoran"',
        )
        .replace(
            'type = "Constant"\nvalue = "Sales EMEA"',
            'type = "Expression"\nexpression = \'Error("no department for wmoran")\'',
        )
    )
    (config.parent / "refusing-rule.toml").write_text(rule, "utf-8")
    refusing = config.parent / "refusing.toml"
    refusing.write_text('rules = ["refusing-rule.toml"]\n' + config.read_text("utf-8"), "utf-8")

    code, output = invoke("migrate", "verify", "-c", str(refusing))
    assert code == 1, output
    assert "no department for wmoran" in output
    assert "CN=William Moran,OU=Staff,DC=contoso,DC=com" in output
    # The object the rule failed on is joined by nothing either: both are named.
    assert "unjoined cloud: William Moran <wmoran@contoso.com>\n" in output
    summary = "0 objects would change, 1 synced objects no source object joins, 1 object errors"
    assert summary in output
    code, output = invoke("migrate", "verify", "-c", str(refusing), "--json")
    (error,) = json.loads(output)["errors"]
    assert error["dn"] == "CN=William Moran,OU=Staff,DC=contoso,DC=com"
    assert error["rule"] == "In from AD - Department refused"


def test_a_value_cannot_forge_or_hide_a_line_of_the_output(
    populated: tuple[Path, CloudTenant],
) -> None:
    """A department written in AD to clear the screen and print the all-clear is shown
    escaped, on its own line: the reviewer reads what it is."""
    config, _ = populated
    forged = "Sales\x1b[2J\nNo differences: hybridsync would change nothing in the cloud."
    encoded = base64.b64encode(forged.encode("utf-8")).decode("ascii")
    text = (config.parent / "ad.ldif").read_text("utf-8")
    hostile = text.replace("department: Sales\n", f"department:: {encoded}\n", 1)
    code, output = invoke("migrate", "verify", "-c", str(with_source(config, "hostile", hostile)))
    assert code == 1, output
    assert "\x1b" not in output
    assert "\nNo differences" not in output
    escaped = "Sales\\x1b[2J\\nNo differences: hybridsync would change nothing in the cloud."
    assert f"    department: Sales -> {escaped}\n" in output


def test_a_run_stopped_by_the_error_limit_stops_the_verify_with_status_2(
    populated: tuple[Path, CloudTenant],
) -> None:
    config, _ = populated
    rule = CHANGED_RULE.replace(
        'type = "Constant"\nvalue = "Sales EMEA"',
        'type = "Expression"\nexpression = \'Error("refused")\'',
    )
    (config.parent / "failing-rule.toml").write_text(rule, "utf-8")
    limited = config.parent / "limited.toml"
    text = 'rules = ["failing-rule.toml"]\n' + config.read_text("utf-8")
    limited.write_text(text + "\n[safety]\nerror_limit = 1\n", "utf-8")
    code, output = invoke("migrate", "verify", "-c", str(limited))
    assert code == 2, output
    assert "stopped-error-limit" in output
    assert "would change" not in output  # a partial run lists nothing
    assert "No differences" not in output


def test_an_unreachable_cloud_stops_the_verify_with_status_5(tmp_path: Path) -> None:
    unreachable = """
[[connectors]]
type = "graph"
name = "cloud"
base_url = "https://127.0.0.1:1/v1.0"
authority = "https://127.0.0.1:1/contoso.com"
client_id = "00000000-0000-0000-0000-000000000001"
client_secret = "not-used"
target = "hybridsync"
"""
    code, output = invoke("migrate", "verify", "-c", str(ldif_to_graph(tmp_path, unreachable)))
    assert code == 5, output
    assert "stopped-unreachable" in output
    assert "No differences" not in output
