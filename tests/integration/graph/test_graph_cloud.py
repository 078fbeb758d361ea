"""The Graph connector against the project's cloud directory served over HTTPS.

Real msal (client credentials from the served token endpoint), real TLS verified
against the test CA, real $batch, delta and throttling.
"""

from __future__ import annotations

import datetime
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from tests.support.cloud_server import CloudServer, CloudTenant, serve_cloud

from hybridsync.cloud.password_hash_sync import stored_password_hash
from hybridsync.cloud.tenancy import DEFAULT_SYNC_APP_ROLES
from hybridsync.cloud.throttle import Quota, ThrottleSettings
from hybridsync.cloud.tls import ensure_local_tls
from hybridsync.connectors.graph import ExportProgress, GraphConfig, GraphConnector
from hybridsync.connectors.graph.auth import MsalTokenSource
from hybridsync.connectors.graph.password_hash_sync import PasswordHashUploader
from hybridsync.core.password_hash_sync.targets import HashUpload, UploadResult
from hybridsync.core.ports import (
    AttributeChange,
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
    ImportKind,
)
from hybridsync.errors import FatalConnectorError


@pytest.fixture(scope="module")
def cloud_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with serve_cloud(tmp_path_factory.mktemp("cloud")) as server:
        yield server


@pytest.fixture
def tenant(cloud_server: CloudServer) -> CloudTenant:
    return cloud_server.new_tenant()


def graph_config(
    server: CloudServer, tenant: CloudTenant, app: Any = None, **extra: Any
) -> GraphConfig:
    app = app or tenant.sync_app
    settings: dict[str, Any] = {
        "base_url": f"{server.base_url}/v1.0",
        "authority": tenant.authority,
        "client_id": app.application.client_id,
        "client_secret": app.client_secret,
        "ca_file": server.ca_path,
        "target": "hybridsync",
    }
    settings.update(extra)
    return GraphConfig.model_validate(settings)


def person(anchor: str, upn: str, **extra: Any) -> tuple[AttributeChange, ...]:
    values = {
        "sourceAnchor": anchor,
        "userPrincipalName": upn,
        "displayName": upn.split("@")[0].replace(".", " ").title(),
        "accountEnabled": True,
        "userType": "Guest" if "@partners." in upn else "Member",
        **extra,
    }
    return tuple(AttributeChange(k, () if v is None else (v,)) for k, v in values.items())


def adds(tenant: CloudTenant, count: int, prefix: str = "user") -> list[ExportChange]:
    changes = []
    for i in range(count):
        domain = tenant.partner_domain if i % 10 == 0 else tenant.domain
        upn = f"{prefix}{i}@{domain}"
        attributes = person(f"{prefix.upper()}{i:05d}", upn, department="Sales")
        changes.append(ExportChange(f"a{i}", ExportKind.ADD, None, f"CN={i}", "user", attributes))
    return changes


def results_by_id(results: list[ExportResult]) -> dict[str, ExportResult]:
    return {r.change_id: r for r in results}


def test_export_then_import_round_trip_with_synced_markers(
    cloud_server: CloudServer, tenant: CloudTenant
) -> None:
    with GraphConnector(graph_config(cloud_server, tenant)) as connector:
        results = results_by_id(list(connector.export(adds(tenant, 45))))
        assert {r.outcome for r in results.values()} == {ExportOutcome.APPLIED}
        pages = list(connector.full_import())
    users = {o.anchor: o for p in pages for o in p.objects}
    assert len(users) == 45
    assert pages[-1].watermark is not None
    partner = users[results["a0"].anchor or ""]
    assert partner.kind is ImportKind.PRESENT
    assert partner.attributes["userType"] == ("Guest",)
    assert partner.attributes["onPremisesImmutableId"] == ("USER00000",)
    assert partner.attributes["onPremisesSyncEnabled"] == (True,)
    assert partner.attributes["mailNickname"] == ("user0",)
    assert users[results["a1"].anchor or ""].attributes["userType"] == ("Member",)


def updated_and_deleted(
    cloud_server: CloudServer, tenant: CloudTenant
) -> tuple[str, str, str, dict[str, Any]]:
    """Three users; after the full import one is updated and one deleted; the delta."""
    with GraphConnector(graph_config(cloud_server, tenant)) as connector:
        created = results_by_id(list(connector.export(adds(tenant, 3))))
        watermark = [p.watermark for p in connector.full_import()][-1]
        assert watermark is not None
        kept, first, second = (created[f"a{i}"].anchor or "" for i in range(3))
        changes = [
            ExportChange(
                "u1", ExportKind.UPDATE, first, "CN=1", "user",
                (AttributeChange("userType", ("guest",)), AttributeChange("department", ())),
            ),
            ExportChange("d2", ExportKind.DELETE, second, "CN=2", "user"),
        ]  # fmt: skip
        assert {r.outcome for r in connector.export(changes)} == {ExportOutcome.APPLIED}
        delta = {o.anchor: o for p in connector.delta_import(watermark) for o in p.objects}
    return kept, first, second, delta


def test_minimal_updates_deletes_and_delta_import(
    cloud_server: CloudServer, tenant: CloudTenant
) -> None:
    kept, first, second, delta = updated_and_deleted(cloud_server, tenant)
    assert delta[second].kind is ImportKind.DELETE
    assert delta[first].kind in (ImportKind.REPLACE, ImportKind.UPDATE)
    assert kept not in delta


def test_delta_items_carry_the_selected_properties(
    cloud_server: CloudServer, tenant: CloudTenant
) -> None:
    _, first, _, delta = updated_and_deleted(cloud_server, tenant)
    assert delta[first].kind is ImportKind.REPLACE
    assert delta[first].attributes["userType"] == ("Guest",)
    assert delta[first].attributes["department"] == ()


def test_a_second_add_of_the_same_anchor_hard_matches(
    cloud_server: CloudServer, tenant: CloudTenant
) -> None:
    with GraphConnector(graph_config(cloud_server, tenant)) as connector:
        (first,) = connector.export(adds(tenant, 1))
        renamed = person("USER00000", f"renamed@{tenant.domain}")
        again = ExportChange("a0", ExportKind.ADD, None, "CN=0", "user", renamed)
        (second,) = connector.export([again])
        found = connector.read_back(again)
        pages = list(connector.full_import())
    assert second.outcome is ExportOutcome.APPLIED
    assert second.anchor == first.anchor
    assert found is not None
    assert found.anchor == first.anchor
    assert sum(len(p.objects) for p in pages) == 1


def test_the_directory_rejects_one_object_and_the_rest_is_written(
    cloud_server: CloudServer, tenant: CloudTenant
) -> None:
    changes = adds(tenant, 3)
    bad = person("BAD00001", "someone@unverified.example")
    changes.append(ExportChange("bad", ExportKind.ADD, None, "CN=bad", "user", bad))
    with GraphConnector(graph_config(cloud_server, tenant)) as connector:
        results = results_by_id(list(connector.export(changes)))
    assert results["bad"].outcome is ExportOutcome.REJECTED
    assert results["bad"].message.startswith("userPrincipalName:")
    assert [results[f"a{i}"].outcome for i in range(3)] == [ExportOutcome.APPLIED] * 3


def test_entra_mode_sends_a_password_and_no_markers(
    cloud_server: CloudServer, tenant: CloudTenant
) -> None:
    app = tenant.add_app(["User.ReadWrite.All"])
    # An application for users alone: groups are left out (they need Group.* roles).
    config = graph_config(cloud_server, tenant, app=app, target="entra", object_types=["user"])
    with GraphConnector(config) as connector:
        results = list(connector.export(adds(tenant, 2)))
        assert {r.outcome for r in results} == {ExportOutcome.APPLIED}
        users = [o for p in connector.full_import() for o in p.objects]
    assert {u.attributes["onPremisesImmutableId"] for u in users} == {
        ("USER00000",),
        ("USER00001",),
    }
    assert all("onPremisesSyncEnabled" not in u.attributes for u in users)


def test_an_application_without_group_roles_is_told_what_groups_need(
    cloud_server: CloudServer, tenant: CloudTenant
) -> None:
    app = tenant.add_app(["User.ReadWrite.All"])
    config = graph_config(cloud_server, tenant, app=app, target="entra")
    with (
        GraphConnector(config) as connector,
        pytest.raises(FatalConnectorError, match=r"needs Group\.ReadWrite\.All") as raised,
    ):
        list(connector.full_import())
    assert "403" in str(raised.value)


def test_a_wrong_secret_stops_the_run(cloud_server: CloudServer, tenant: CloudTenant) -> None:
    config = graph_config(cloud_server, tenant, client_secret="not-the-secret")
    with (
        GraphConnector(config) as connector,
        pytest.raises(FatalConnectorError, match="invalid_client"),
    ):
        list(connector.full_import())


def test_an_untrusted_certificate_stops_the_run(
    cloud_server: CloudServer, tenant: CloudTenant, tmp_path: Path
) -> None:
    other_ca = ensure_local_tls(tmp_path / "other").ca_certificate
    config = graph_config(cloud_server, tenant, ca_file=other_ca)
    with GraphConnector(config) as connector, pytest.raises(FatalConnectorError, match="TLS"):
        list(connector.full_import())


def test_throttled_cloud_run_completes_slower_without_errors(tmp_path: Path) -> None:
    quota = Quota(requests=40, seconds=2)
    throttle = ThrottleSettings(app_tenant_writes=quota)
    with serve_cloud(tmp_path, throttle=throttle) as server:
        tenant = server.new_tenant()
        seen: list[ExportProgress] = []
        # The connector's budget is told the same quota: it waits instead of being throttled.
        config = graph_config(
            server, tenant, write_quotas=[{"requests": 40, "per_seconds": 2}], concurrency=4
        )
        started = time.monotonic()
        with GraphConnector(config, progress=seen.append) as connector:
            results = list(connector.export(adds(tenant, 120)))
            users = [o for p in connector.full_import() for o in p.objects]
        elapsed = time.monotonic() - started
    assert {r.outcome for r in results} == {ExportOutcome.APPLIED}
    assert len(users) == 120
    assert elapsed >= 4  # 120 writes at 40 per 2 s need at least two full windows
    assert seen[-1].done == 120
    assert seen[-1].throttled == 0


def test_throttling_without_a_budget_is_absorbed_by_retry_after(tmp_path: Path) -> None:
    quota = Quota(requests=30, seconds=1)
    throttle = ThrottleSettings(app_tenant_writes=quota)
    with serve_cloud(tmp_path, throttle=throttle) as server:
        tenant = server.new_tenant()
        seen: list[ExportProgress] = []
        config = graph_config(server, tenant, write_quotas=[], max_retry_delay=2.0)
        with GraphConnector(config, progress=seen.append) as connector:
            results = list(connector.export(adds(tenant, 100)))
    assert {r.outcome for r in results} == {ExportOutcome.APPLIED}
    assert seen[-1].throttled > 0


# The spec's DSInternals vector (sync-engine.md §4.1): password Pa$$w0rd.
SPEC_WIRE = (
    "v1;PPH1_MD4,181a3024085fcee2f70e,1000,"
    "b39525c3bc72a1136fcf7c8a338e0c14313d0450d1a4c98ef0a6ddada3bc5b0a;"
)


def test_password_hash_uploads_wait_out_throttling_as_long_as_retry_after_says(
    tmp_path: Path,
) -> None:
    # One write per 3 s: creating the user uses the window, so the upload is answered
    # 429 with Retry-After: 3 (a guess without the header would wait 1 s).
    throttle = ThrottleSettings(app_tenant_writes=Quota(requests=1, seconds=3))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with serve_cloud(tmp_path, throttle=throttle) as server:
        tenant = server.new_tenant()
        with tenant.client(tenant.app_token(tenant.sync_app)) as sync:
            body = tenant.user_body("phsthrottled", onPremisesImmutableId="phs-throttled")
            del body["passwordProfile"]
            created = sync.post("/v1.0/users", json=body)
            assert created.status_code == 201, created.text
        user_id = str(created.json()["id"])
        upload = HashUpload("phs-throttled", user_id, SPEC_WIRE)
        config = graph_config(server, tenant, max_retry_delay=10.0)
        with PasswordHashUploader(config, sleep=sleep) as uploader:
            results = list(uploader.upload_password_hashes([upload]))
        stored = stored_password_hash(server.service, tenant.id, user_id)
    assert results == [UploadResult("phs-throttled")]
    assert stored == SPEC_WIRE
    assert waits, "the upload was never throttled"
    # Retry-After is what is left of the 3-second window (3 s unless this machine was slow
    # between the create and the upload) plus at most a tenth of jitter; without the header
    # the client would have guessed 1 s.
    assert 2.0 <= waits[0] <= 3.3


def self_signed(tmp_path: Path) -> tuple[Path, str, str]:
    """A key file, its certificate (PEM) and the certificate's SHA-1 thumbprint (hex)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hybridsync sync engine")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_file = tmp_path / "sync.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return key_file, pem, certificate.fingerprint(hashes.SHA1()).hex()


def test_a_certificate_credential_gets_tokens_through_msal(
    cloud_server: CloudServer, tenant: CloudTenant, tmp_path: Path
) -> None:
    key_file, pem, thumbprint = self_signed(tmp_path)
    app = tenant.add_app(list(DEFAULT_SYNC_APP_ROLES), certificate_pem=pem)
    config = graph_config(
        cloud_server,
        tenant,
        app=app,
        client_secret=None,
        certificate={"private_key_file": key_file, "thumbprint": thumbprint},
    )
    with GraphConnector(config) as connector:
        (result,) = connector.export(adds(tenant, 1))
    assert result.outcome is ExportOutcome.APPLIED


def test_a_certificate_credential_refreshes_with_a_new_assertion(
    cloud_server: CloudServer, tenant: CloudTenant, tmp_path: Path
) -> None:
    """The directory refuses a client assertion whose jti it has seen: the token taken
    again after a 401 must come with a new assertion, not msal's cached one."""
    key_file, pem, thumbprint = self_signed(tmp_path)
    app = tenant.add_app(list(DEFAULT_SYNC_APP_ROLES), certificate_pem=pem)
    config = graph_config(
        cloud_server,
        tenant,
        app=app,
        client_secret=None,
        certificate={"private_key_file": key_file, "thumbprint": thumbprint},
    )
    trust = ssl.create_default_context(cafile=str(cloud_server.ca_path))
    with httpx.Client(verify=trust) as http:
        tokens = MsalTokenSource(config, http)
        for refresh in (False, True, True):  # each a new grant: none refused as a replay
            assert tokens.token(refresh=refresh).count(".") == 2
