"""The console's pages over a store of 100,000 objects: each is timed (reported, not
asserted: the figures go to docs/performance.md, "Console"), and each must answer 200 with
the object it was asked for: paging and search happen in SQL, no page reads every object.

The pages are asked over HTTPS from the admin server ``hybridsync serve`` runs (a session
opened directly): what is measured is the page's own work and its HTTP, not the sign-in.
"""

from __future__ import annotations

import ssl
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hybridsync.cli.admin.server import AdminServer
from hybridsync.cli.admin.settings import AdminSettings
from hybridsync.cli.admin.state import AdminState
from hybridsync.cli.console.app import console_routes, new_console
from hybridsync.cli.console.data import open_reader
from hybridsync.cli.console.sessions import COOKIE
from hybridsync.cloud.tls import ensure_local_tls
from hybridsync.config.console import ConsoleConfig
from hybridsync.core.objects import CSObject, ObjectError
from hybridsync.core.runs import Profile, RunRecord, Status
from hybridsync.store import SqlStore, tables
from hybridsync.store.codec import dump_attributes, dump_lineage
from hybridsync.store.sql.rows import cs_row
from hybridsync.wiring import Built, build_from_file

pytestmark = pytest.mark.slow

OBJECTS = 100_000
BATCH = 5_000
RUNS = 30 * 48
"""A run every half hour for 30 days."""
TIMES = 5


def _user(n: int) -> tuple[CSObject, tuple[str, str, str, str]]:
    """An AD user and its metaverse object's row (the same values)."""
    upn = f"user{n:06d}@contoso.com" if n % 10 else f"user{n:06d}@partners.contoso.com"
    attributes = {
        "userPrincipalName": (upn,),
        "displayName": (f"User {n:06d}",),
        "sAMAccountName": (f"user{n:06d}",),
        "mail": (upn,),
        "department": (f"Department {n % 50}",),
        "objectGUID": (n.to_bytes(16, "big"),),
    }
    mv_id = f"mv-{n:06d}"
    cs = CSObject(f"cs-{n:06d}", "ad", n.to_bytes(16, "big").hex(),
                  f"CN=User {n:06d},OU=Staff,DC=contoso,DC=com", "user", attributes,
                  mv_id=mv_id, joined_by="In from AD - User Join")  # fmt: skip
    lineage = dump_lineage(dict.fromkeys(attributes, "In from AD - User Common"))
    return cs, (mv_id, "person", dump_attributes(attributes), lineage)


def _insert(store: SqlStore, table: str, rows: list[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" * len(rows[0]))
    store.connection.exec_driver_sql(f"INSERT INTO {table} VALUES ({marks})", rows)


def _fill(built: Built) -> None:
    """100,000 AD users, each joined to its metaverse object. Written in bulk as the
    store's own rows: the engine's writes (and its value index) are not what is measured,
    and would take most of the test's time."""
    store = built.store
    assert isinstance(store, SqlStore)
    columns = [column.name for column in tables.cs_objects.columns]
    for start in range(0, OBJECTS, BATCH):
        made = [_user(n) for n in range(start, start + BATCH)]
        with store.transaction():
            rows = [cs_row(cs) for cs, _ in made]
            _insert(store, "cs_objects", [tuple(row[c] for c in columns) for row in rows])
            _insert(store, "mv_objects", [mv for _, mv in made])
    now = datetime.now(UTC)
    with store.transaction():
        for n in range(RUNS):
            started = (now - timedelta(minutes=30 * (RUNS - 1 - n))).isoformat()
            profile = (Profile.DELTA_IMPORT, Profile.DELTA_SYNC, Profile.EXPORT)[n % 3]
            record = RunRecord(str(uuid.uuid4()), "ad" if n % 3 < 2 else "cloud", profile,
                               Status.SUCCESS, started, started, {"updated": n % 7})  # fmt: skip
            store.start_run(record)
            store.finish_run(record)
            if n % 10 == 9:
                store.record_errors(record.run_id, [ObjectError("ad", f"CN=User {n:06d}", "bad")])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    root = tmp_path_factory.mktemp("console-speed")
    (root / "ad.ldif").write_text("", "utf-8")
    config = root / "hybridsync.toml"
    config.write_text(
        'store = "state.db"\n[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n'
        '[[connectors]]\ntype = "ldif"\nname = "ad"\npath = "ad.ldif"\n'
        '[[connectors]]\ntype = "recording"\nname = "cloud"\n',
        encoding="utf-8",
    )
    built = build_from_file(config)
    _fill(built)
    state = AdminState()
    state.attach(None, built)
    settings = ConsoleConfig(issuer="https://login.example/t/v2.0", client_id="console",
                             redirect_uri="https://sync.example/console/signed-in",
                             reader_roles=["r"])  # fmt: skip
    data = open_reader(built.config)
    console = new_console(settings, state, data, None, 60.0)
    session = console.sessions.open("reader@contoso.com", "Reader", "reader")
    tls = ensure_local_tls(root / "tls")
    server = AdminServer(
        AdminSettings("127.0.0.1", 0, tls.certificate, tls.private_key), state,
        console_routes(console),
    )  # fmt: skip
    server.start()
    try:
        trusted = ssl.create_default_context(cafile=str(tls.ca_certificate))
        with httpx.Client(base_url=server.url, verify=trusted, cookies={COOKIE: session}) as http:
            yield http
    finally:
        server.stop()
        data.close()
        built.close()


def built_store_run_with_error(client: httpx.Client) -> str:
    """The newest run (it has an error: every tenth run has one, the newest among them)."""
    runs = client.get("/console/runs").text
    return runs.split('href="/console/runs/', 1)[1].split('"', 1)[0]


PAGES = {
    "overview": "/console/",
    "runs": "/console/runs",
    "runs, page 20": "/console/runs?page=20",
    "search by UPN": "/console/objects?q=user099999@contoso.com",
    "search by displayName": "/console/objects?q=User%20054321",
    "search by DN": "/console/objects?q=CN%3DUser%20077777",
    "search, no match (every row read)": "/console/objects?q=nobody-has-this",
    "search the metaverse, no match": "/console/objects?q=nobody-has-this&space=metaverse",
    "search, page 100 of a common term": "/console/objects?q=partners&page=100",
}


def test_pages_over_100000_objects(
    client: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    timings = {}
    for name, path in PAGES.items():
        answer = client.get(path)  # warm: templates compiled, SQLite's cache filled
        assert answer.status_code == 200, (name, answer.text[:300])
        seconds = []
        for _ in range(TIMES):
            started = time.perf_counter()
            answer = client.get(path)
            seconds.append(time.perf_counter() - started)
        timings[name] = statistics.median(seconds) * 1000
    found = client.get(PAGES["search by UPN"]).text
    assert "user099999@contoso.com" in found
    assert "User 054321" in client.get(PAGES["search by displayName"]).text
    assert "Nothing matches." in client.get(PAGES["search, no match (every row read)"]).text
    assert client.get("/console/runs?page=20").text.count("<tr>") == 25 + 1
    cloud_runs = client.get("/console/runs?connector=cloud").text
    assert "<td>cloud</td>" in cloud_runs
    assert "<td>ad</td>" not in cloud_runs
    with_error = built_store_run_with_error(client)
    assert "CN=User 001439" in client.get(f"/console/runs/{with_error}?q=user%20001439").text
    assert "No errors." in client.get(f"/console/runs/{with_error}?q=nothing-like-it").text
    with capsys.disabled():
        print(f"\nconsole pages at {OBJECTS:,} objects (median of {TIMES}):")
        for name, ms in timings.items():
            print(f"  {name:<40} {ms:7.1f} ms")
