from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

pytest.importorskip("impacket")

from hybridsync.connectors.drsr import DrsrSettings, ExtendedOperation, password_from
from hybridsync.errors import ConfigError

SECRET = "Sync-Acc0unt!Pw"


def settings(**overrides: object) -> DrsrSettings:
    values: dict[str, object] = {
        "host": "127.0.0.150",
        "domain": "corp.contoso.com",
        "username": "svc-phs",
        "password": SecretStr(SECRET),
    }
    return DrsrSettings.model_validate(values | overrides)


def test_the_password_never_shows() -> None:
    shown = f"{settings()} {settings()!r} {settings().model_dump()} {settings().model_dump_json()}"
    assert SECRET not in shown


def test_defaults_and_the_account_name() -> None:
    s = settings()
    assert s.extended_operation is ExtendedOperation.AUTO
    assert s.timeout == 30
    assert s.account == "corp.contoso.com\\svc-phs"


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden"):
        settings(passwd="x")


def test_password_from_the_environment() -> None:
    assert password_from(env="PHS_PW", environ={"PHS_PW": SECRET}).get_secret_value() == SECRET


def test_password_from_a_file_without_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text(SECRET + "\n", encoding="utf-8")
    assert password_from(file=path).get_secret_value() == SECRET


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of env or file"),
        ({"env": "A", "file": Path("/x")}, "exactly one of env or file"),
        ({"env": "PHS_MISSING", "environ": {}}, "PHS_MISSING: environment variable"),
        ({"env": "PHS_EMPTY", "environ": {"PHS_EMPTY": ""}}, "is not set or empty"),
        ({"file": Path("/nonexistent/pw")}, "/nonexistent/pw: cannot read the password file"),
    ],
)
def test_a_missing_password_is_a_config_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        password_from(**kwargs)  # type: ignore[arg-type]


def test_an_empty_password_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="the password file is empty"):
        password_from(file=tmp_path / "pw")
