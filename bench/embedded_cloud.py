"""Embedded cloud directory benchmark: the demo's in-process path against HTTPS.

An LDIF directory of N users goes through an initial cycle (full import, full sync,
export of N creates) and then a quiet delta cycle, twice in the same run:

- into the embedded cloud directory (``type = "embedded-cloud"``: the Graph connector
  calling the directory's ASGI app in-process), which is what ``hybridsync demo`` does;
- the baseline: into the same cloud directory served by uvicorn over HTTPS on loopback,
  through the ordinary ``graph`` connector (token, TLS, sockets).

The ratio says what skipping the network stack is worth (above 1: the embedded path is
faster). Usage: ``uv run python bench/embedded_cloud.py [N]`` (default 2,000).
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import random
import re
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from hybridsync.cloud import CloudService, CloudSettings, create_app
from hybridsync.cloud.server import ThreadedServer, TlsConfig
from hybridsync.cloud.tenancy import DEFAULT_SYNC_APP_ROLES
from hybridsync.cloud.tls import ensure_local_tls
from hybridsync.wiring import build_from_file

HEAD = """
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[user_type]
source = "upn-suffix"
suffixes = ["@partners.contoso.com"]
[safety]
batch_size = 1000
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
"""

EMBEDDED = """
[[connectors]]
type = "embedded-cloud"
name = "cloud"
data_dir = "cloud"
tenant = "contoso.com"
domains = ["partners.contoso.com"]
"""


def _user_entry() -> Callable[[int, random.Random], str]:
    # One generator for every benchmark: the engine's, loaded from its file.
    path = Path(__file__).with_name("engine.py")
    spec = importlib.util.spec_from_file_location("bench_engine", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entry: Callable[[int, random.Random], str] = module.user_entry
    return entry


def write_ldif(path: Path, count: int) -> None:
    """N users with random objectGUIDs, as a real directory has (the engine benchmark's
    sequential GUIDs give base64 anchors that differ only in letter case, which the
    cloud directory's uniqueness check on onPremisesImmutableId does not tell apart)."""
    entry, rng = _user_entry(), random.Random(7)
    texts = []
    for index in range(count):
        guid = base64.b64encode(uuid.UUID(int=rng.getrandbits(128)).bytes_le).decode()
        text = re.sub(r"^objectGUID:: .*$", f"objectGUID:: {guid}", entry(index, rng), flags=re.M)
        texts.append(text)
    path.write_text("\n".join(texts), encoding="utf-8")


def cycles(config: Path) -> tuple[float, float, int]:
    """Seconds of the initial cycle, of a quiet delta cycle, and users created."""
    built = build_from_file(config)
    try:
        started = time.perf_counter()
        initial = built.engine.cycle("initial")
        middle = time.perf_counter()
        built.engine.cycle("delta")
        ended = time.perf_counter()
    finally:
        built.close()
    created = sum(r.counts.get("add", 0) for r in initial.runs if r.profile.value == "export")
    return middle - started, ended - middle, created


def embedded(workdir: Path, count: int) -> tuple[float, float, int]:
    workdir.mkdir()
    write_ldif(workdir / "ad.ldif", count)
    (workdir / "hybridsync.toml").write_text(HEAD + EMBEDDED, encoding="utf-8")
    return cycles(workdir / "hybridsync.toml")


def served(workdir: Path, count: int) -> tuple[float, float, int]:
    workdir.mkdir()
    write_ldif(workdir / "ad.ldif", count)
    tls = ensure_local_tls(workdir / "tls")
    service = CloudService(
        CloudSettings(
            database_url=f"sqlite:///{workdir / 'cloud.db'}", master_key=secrets.token_urlsafe(32)
        )
    )
    tenant = service.tenancy.create_tenant("contoso.com", ["partners.contoso.com"])
    app = service.tenancy.add_application(tenant.id, "sync", DEFAULT_SYNC_APP_ROLES)
    (workdir / "secret").write_text(app.client_secret or "", encoding="utf-8")
    try:
        with ThreadedServer(
            create_app(service), TlsConfig(tls.certificate, tls.private_key)
        ) as srv:
            target = f"""
[[connectors]]
type = "graph"
name = "cloud"
target = "hybridsync"
base_url = "{srv.base_url}/v1.0"
authority = "{srv.base_url}/{tenant.id}"
client_id = "{app.application.client_id}"
client_secret_file = "secret"
ca_file = "{tls.ca_certificate}"
"""
            (workdir / "hybridsync.toml").write_text(HEAD + target, encoding="utf-8")
            return cycles(workdir / "hybridsync.toml")
    finally:
        service.close()


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("users", nargs="?", type=int, default=2000)
    count = parser.parse_args(argv).users
    with tempfile.TemporaryDirectory() as tmp:
        base = served(Path(tmp) / "served", count)
        fast = embedded(Path(tmp) / "embedded", count)
    assert base[2] == fast[2] == count, (base, fast)
    result = {
        "users": count,
        "served_initial_s": round(base[0], 3),
        "embedded_initial_s": round(fast[0], 3),
        "initial_ratio": round(base[0] / fast[0], 2),
        "served_quiet_delta_s": round(base[1], 3),
        "embedded_quiet_delta_s": round(fast[1], 3),
        "embedded_users_per_s": round(count / fast[0], 1),
    }
    for key, value in result.items():
        print(f"{key:<24} {value}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
