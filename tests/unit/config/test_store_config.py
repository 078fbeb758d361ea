"""``store``: a SQLite path or a PostgreSQL URL, the password kept out of the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from hybridsync.config import Config, StoreConfig, load_config
from hybridsync.config.store import DEFAULT_PASSWORD_ENV
from hybridsync.errors import ConfigError, StoreError
from hybridsync.store.postgres import postgresql_url

URL = "postgresql+psycopg://hybridsync@db.corp.contoso.com/hybridsync"
CONNECTORS = '[[connectors]]\ntype = "ldif"\nname = "ad"\npath = "ad.ldif"\n'


def _config(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "hybridsync.toml"
    path.write_text(text + CONNECTORS, encoding="utf-8")
    return load_config(path)


def test_a_string_is_a_sqlite_path_or_a_postgresql_url(tmp_path: Path) -> None:
    sqlite = _config(tmp_path, 'store = "state.db"\n')
    assert (sqlite.store.path, sqlite.store.url) == (Path("state.db"), None)
    assert sqlite.store_file() == tmp_path / "state.db"
    server = _config(tmp_path, f'store = "{URL}"\n')
    assert (server.store.path, server.store.url) == (None, URL)
    assert server.store_file() is None
    assert _config(tmp_path, "").store_file() == tmp_path / "hybridsync.db"


def test_the_table_form_names_the_password_source_and_the_ca(tmp_path: Path) -> None:
    (tmp_path / "db.secret").write_text("s3cret\n", encoding="utf-8")
    config = _config(
        tmp_path,
        f'[store]\nurl = "{URL}"\npassword_file = "db.secret"\nca_file = "ca.pem"\n',
    )
    assert config.store.ca_file == Path("ca.pem")
    assert config.store.password_file == Path("db.secret")
    assert "s3cret" not in repr(config)  # read only when the store is opened


@pytest.mark.parametrize(
    ("store", "message"),
    [
        (f'"{URL.replace("hybridsync@", "hybridsync:pw@")}"', "holds a password"),
        ('"mysql://u@h/db"', r"must start with postgresql\+psycopg://"),
        (f'{{ url = "{URL}", path = "x.db" }}', "either path"),
        ('{ path = "x.db", ca_file = "ca.pem" }', "need a url"),
        (f'{{ url = "{URL}", password_env = "A", password_file = "b" }}', "at most one"),
    ],
)
def test_bad_store_settings_are_configuration_errors(
    tmp_path: Path, store: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as failed:
        _config(tmp_path, f"store = {store}\n")
    assert "hybridsync.toml:1:1: store: " in str(failed.value)
    assert ":pw@" not in str(failed.value)


def test_the_password_comes_from_the_named_variable_the_default_one_or_nowhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DEFAULT_PASSWORD_ENV, raising=False)
    assert StoreConfig(url=URL).password() is None  # peer or certificate logins
    monkeypatch.setenv(DEFAULT_PASSWORD_ENV, "from-default")
    assert StoreConfig(url=URL).password() == SecretStr("from-default")
    named = StoreConfig(url=URL, password_env="DB_PASSWORD")
    with pytest.raises(ConfigError, match="DB_PASSWORD is not set"):
        named.password()
    monkeypatch.setenv("DB_PASSWORD", "from-named")
    assert named.password() == SecretStr("from-named")
    with pytest.raises(ValidationError):
        StoreConfig(path=Path("x.db"), password_env="DB_PASSWORD")


def test_the_engine_url_verifies_tls_and_hides_the_password() -> None:
    url = postgresql_url(URL, password=SecretStr("s3cret"))
    assert url.drivername == "postgresql+psycopg"
    assert dict(url.query) == {"sslmode": "verify-full", "sslrootcert": "system"}
    assert "s3cret" not in repr(url)
    assert "s3cret" not in url.render_as_string(hide_password=True)
    assert url.password == "s3cret"
    given = postgresql_url(URL, ca_file=Path("/etc/ca.pem"))
    assert given.query["sslrootcert"] == "/etc/ca.pem"
    relaxed = postgresql_url(URL.replace("postgresql+psycopg", "postgresql") + "?sslmode=require")
    assert (relaxed.drivername, dict(relaxed.query)) == (
        "postgresql+psycopg",
        {"sslmode": "require"},
    )
    for bad in ("://db", "postgresql+psycopg://u@h:port/db"):
        with pytest.raises(StoreError, match="not a database URL"):
            postgresql_url(bad)


def test_psycopg_is_imported_only_for_a_postgresql_store() -> None:
    """The driver is an optional extra: SQLite users need not install it."""
    code = (
        "import sys\n"
        "import hybridsync.cli, hybridsync.wiring, hybridsync.store, hybridsync.config\n"
        "from hybridsync.store import open_sqlite\n"
        "open_sqlite(':memory:').close()\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
