"""A cloud that cannot be reached on first contact stops the run at once, with the cause
and exit status 5: a name that does not resolve, a refused connection, an untrusted
certificate. Nothing is retried (retrying cost minutes before)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml, serve_cloud
from tests.support.workspace import invoke, ldif_to_graph

from hybridsync.cli import exit_codes


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CloudServer, CloudTenant]]:
    with serve_cloud(tmp_path_factory.mktemp("cloud")) as server:
        yield server, server.new_tenant("contoso.com")


def _graph_at(url: str) -> str:
    return f"""
[[connectors]]
type = "graph"
name = "cloud"
base_url = "{url}/v1.0"
authority = "{url}/contoso.com"
client_id = "00000000-0000-0000-0000-000000000001"
client_secret = "not-used"
target = "hybridsync"
"""


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("https://127.0.0.1:1", "cannot connect to 127.0.0.1:1"),
        (
            "https://graph.hybridsync-test.invalid",
            "cannot connect to graph.hybridsync-test.invalid",
        ),
    ],
)
def test_a_refused_connection_or_an_unknown_name_stops_the_run_at_once(
    tmp_path: Path, url: str, cause: str
) -> None:
    code, output = invoke("run", "initial", "-c", str(ldif_to_graph(tmp_path, _graph_at(url))))
    assert code == exit_codes.UNREACHABLE, output
    assert "stopped-unreachable" in output
    assert cause in " ".join(output.split())  # the message may wrap at 80 columns
    assert not re.search(r"retry \d+ of", output)


def test_an_untrusted_certificate_stops_the_run_at_once(
    tmp_path: Path, cloud: tuple[CloudServer, CloudTenant]
) -> None:
    server, tenant = cloud
    graph = graph_connector_toml(server, tenant, tmp_path)
    untrusted = graph.replace(f'ca_file = "{server.ca_path}"\n', "")
    code, output = invoke("run", "initial", "-c", str(ldif_to_graph(tmp_path, untrusted)))
    assert code == exit_codes.UNREACHABLE, output
    assert re.search(r"TLS verification of 127\.0\.0\.1:\d+ failed", " ".join(output.split()))
    assert not re.search(r"retry \d+ of", output)


def test_the_same_cloud_with_its_ca_is_reached(
    tmp_path: Path, cloud: tuple[CloudServer, CloudTenant]
) -> None:
    server, tenant = cloud
    config = ldif_to_graph(tmp_path, graph_connector_toml(server, tenant, tmp_path))
    code, output = invoke("run", "initial", "-c", str(config))
    assert code == exit_codes.SUCCESS, output
