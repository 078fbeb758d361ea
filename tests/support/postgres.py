"""A real PostgreSQL server for the tests: ``initdb`` and ``postgres`` in a temp directory.

The server listens on a free port of 127.0.0.1 only, over TLS with a certificate from
the test CA (so clients keep ``sslmode=verify-full``), with password (SCRAM) logins.
PostgreSQL refuses to run as root: as root the cluster belongs to the ``postgres`` user
the Debian package creates, otherwise to the current user. Durability is switched off
(``fsync=off``): the tests crash the client, never the server.

API: :class:`PostgresServer` (``url_of(database)``, ``password``, ``ca_file``,
``create_database()``, ``drop_database(name)``) and :func:`running_postgres`.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pydantic import SecretStr
from tests.support.tls import issue_server_certificate

__all__ = ["PostgresServer", "find_postgres_bin", "running_postgres"]

ADMIN = "hybridsync_admin"
START_TIMEOUT_SECONDS = 30


def find_postgres_bin() -> Path | None:
    """The directory holding ``initdb`` and ``postgres`` (Debian keeps them off PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(versions[-1]).parent if versions else None


def _version(path: str) -> tuple[int, ...]:
    part = Path(path).parent.parent.name
    return tuple(int(p) for p in part.split(".") if p.isdigit())


@dataclass
class PostgresServer:
    port: int
    password: SecretStr
    ca_file: Path
    host: str = "127.0.0.1"
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url_of(self, database: str, user: str = ADMIN) -> str:
        """The store URL (no password in it: the store takes that apart)."""
        return f"postgresql+psycopg://{user}@{self.host}:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=ADMIN,
            dbname="postgres",
            password=self.password.get_secret_value(),
            sslmode="verify-full",
            sslrootcert=str(self.ca_file),
            autocommit=True,
        )

    def create_database(self) -> str:
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self.admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')  # a name of our own making
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _owner() -> tuple[int, int] | None:
    """The (uid, gid) the server runs as when we are root, else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam("postgres")  # created by the Debian package
    return entry.pw_uid, entry.pw_gid


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prepare(root: Path, bin_dir: Path, password: str, owner: tuple[int, int] | None) -> Path:
    certificate = issue_server_certificate(root / "tls", "localhost", "127.0.0.1")
    pwfile = root / "pwfile"
    pwfile.write_text(password, encoding="utf-8")
    if owner is not None:
        for path in (root, root / "tls", certificate.key_file, certificate.cert_file, pwfile):
            os.chown(path, *owner)
    data = root / "data"
    subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", ADMIN, "--pwfile", str(pwfile),
         "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"],
        check=True, capture_output=True, user=owner[0] if owner else None,
        group=owner[1] if owner else None,
    )  # fmt: skip
    # Password logins over TCP only with TLS: a plain connection is refused outright.
    (data / "pg_hba.conf").write_text(
        "local all all scram-sha-256\n"
        "hostssl all all 127.0.0.1/32 scram-sha-256\n"
        "hostnossl all all 0.0.0.0/0 reject\n",
        encoding="utf-8",
    )
    return data


@contextlib.contextmanager
def running_postgres(root: Path) -> Iterator[PostgresServer]:
    """Start a server in ``root`` (a directory of its own, see :func:`new_root`); stop it after."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL is not installed (Debian package postgresql)")
    owner = _owner()
    password = SecretStr(os.urandom(12).hex())
    data = _prepare(root, bin_dir, password.get_secret_value(), owner)
    tls = root / "tls"
    port = _free_port()
    command = [
        str(bin_dir / "postgres"), "-D", str(data), "-c", "listen_addresses=127.0.0.1",
        "-c", f"port={port}", "-c", f"unix_socket_directories={root}",
        "-c", "ssl=on", "-c", f"ssl_cert_file={tls / 'server.pem'}",
        "-c", f"ssl_key_file={tls / 'server.key'}", "-c", "fsync=off",
        "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        "-c", "max_connections=60", "-c", "shared_buffers=64MB",
    ]  # fmt: skip
    log = (root / "postgres.log").open("wb")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT,
        user=owner[0] if owner else None, group=owner[1] if owner else None,
    )  # fmt: skip
    server = PostgresServer(port, password, tls / "ca.pem")
    try:
        _wait_until_ready(server, process, root / "postgres.log")
        yield server
    finally:
        process.send_signal(signal.SIGINT)  # fast shutdown: disconnect clients, stop
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_ready(server: PostgresServer, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            server.admin().close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def new_root() -> Path:
    """A private directory outside pytest's root-only temp tree (the server user reads it)."""
    return Path(tempfile.mkdtemp(prefix="hybridsync-pg-"))
