"""Fixtures: one HTTPS cloud directory per session, one fresh tenant per test."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    # kiota-abstractions warns about its own deprecated class when the module is imported.
    warnings.simplefilter("ignore", DeprecationWarning)
    import kiota_abstractions.default_query_parameters  # noqa: F401
from tests.cloud.mailbox import Mailbox
from tests.support.cloud_server import CloudServer, CloudTenant, serve_cloud


@pytest.fixture(scope="session")
def cloud_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with serve_cloud(tmp_path_factory.mktemp("cloud")) as server:
        yield server


@pytest.fixture
def tenant(cloud_server: CloudServer) -> CloudTenant:
    return cloud_server.new_tenant()


@pytest.fixture(scope="session")
def mailbox(
    cloud_server: CloudServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Mailbox]:
    """A loopback SMTP relay, configured as the session directory's relay while it runs."""
    relay = Mailbox.start(tmp_path_factory.mktemp("smtp"))
    settings = cloud_server.service.settings
    cloud_server.service.settings = settings.model_copy(update={"smtp": relay.smtp_settings()})
    try:
        yield relay
    finally:
        cloud_server.service.settings = settings
        relay.stop()
