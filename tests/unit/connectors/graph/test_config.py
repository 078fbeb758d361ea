"""The Graph connector's configuration model."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.unit.connectors.graph.support import config

from hybridsync.errors import ConfigError


def test_exactly_one_credential_is_required() -> None:
    with pytest.raises(ValidationError, match="exactly one credential"):
        config(client_secret=None)
    with pytest.raises(ValidationError, match="exactly one credential"):
        config(client_secret_env="X")


def test_plain_http_is_refused() -> None:
    with pytest.raises(ValidationError, match="base_url must be an https URL"):
        config(base_url="http://graph.test/v1.0")


def test_the_secret_is_hidden_in_every_rendering() -> None:
    settings = config(client_secret="hunter2")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in settings.model_dump_json()


def test_secret_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("from-file\n")
    secret = config(client_secret=None, client_secret_file=path).secret()
    assert secret is not None
    assert secret.get_secret_value() == "from-file"


def test_missing_secret_sources_are_configuration_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    with pytest.raises(ConfigError, match="NO_SUCH_SECRET"):
        config(client_secret=None, client_secret_env="NO_SUCH_SECRET").secret()
    with pytest.raises(ConfigError, match="cannot read"):
        config(client_secret=None, client_secret_file=tmp_path / "absent").secret()


def test_instance_discovery_only_for_microsoft_authorities() -> None:
    assert config().instance_discovery is False
    assert config(authority="https://login.microsoftonline.com/contoso.com").instance_discovery


def test_a_password_is_sent_on_create_only_to_entra_unless_configured() -> None:
    assert config(target="entra").sends_password_on_create is True
    assert config(target="hybridsync").sends_password_on_create is False
    assert config(target="hybridsync", password_on_create=True).sends_password_on_create
