"""Groups into the served cloud directory: ``hybridsync run`` beside raw ``$batch`` writes.

    uv run python bench/groups.py [--users N] [--memberships M] [--source ldif|samba|both]
                                  [--json]

N users (default 10,000), N/10 global security groups, every user a member of M
(default 10) consecutive ones. For each source (an LDIF file: the engine's own cost, no
directory to read; a throw-away Samba AD DC: the real thing), in one served cloud
directory:

- the raw baseline: the Graph writes the cycle sends (create every user, create every
  group, add every member with ``POST /groups/{id}/members/$ref``), as pre-built
  ``$batch`` bodies of 20 sent by plain httpx with the connector's concurrency, in a
  fresh tenant, with the same token (the sync app's);
- ``hybridsync run initial`` as a real process: wall time and phases;
- the delta cycle that confirms the initial one's exports (it reads them back);
- a delta cycle after 100 membership changes (50 users each leave one group and join
  another): wall time, and the member additions/removals and ``$batch`` requests sent.

Each cycle is given as the process's wall time and as the cycle's own duration (its
first run's start to its last run's end, as the engine reports them: what a long-running
``hybridsync scheduler`` or ``serve`` pays), with its phases.

Graph requests are counted on the cloud directory's side (every HTTP request, and every
item of every ``$batch``). The load average is printed at the start and the end: the
machine may be shared.

The Samba source needs root (a loopback address for the DC) and the samba package.
"""

from __future__ import annotations

import argparse
import base64
import compileall
import json
import os
import resource
import secrets
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from tests.support.cloud_server import CloudServer, CloudTenant, graph_connector_toml

from hybridsync.cloud import CloudService, CloudSettings, create_app
from hybridsync.cloud.server import ThreadedServer, TlsConfig
from hybridsync.cloud.tls import ensure_local_tls

CONCURRENCY = 4  # the Graph connector's default
MEMBERSHIPS = 10  # groups per user (--memberships)
CHANGES = 100  # membership changes of the delta cycle
BATCH = "/v1.0/$batch"
PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")
SECURITY_GLOBAL = -2147483646  # groupType of a global security group


# -- counting the requests the cloud directory receives ------------------------------------

BATCHED = "batched "
"""Prefix of the kinds counted inside a ``$batch``."""


class RequestCounter:
    """ASGI middleware: counts every request by kind, and every item of a ``$batch``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = f"{scope['method']} {_kind(scope['path'])}"
        if not scope["path"].endswith("/$batch"):
            self._add([kind])
            await self.app(scope, receive, send)
            return
        body = bytearray()

        async def recording() -> Any:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                items = json.loads(body or b"{}").get("requests", [])
                batched = (f"{BATCHED}{i['method']} {_kind(i['url'])}" for i in items)
                self._add([kind, *batched])
            return message

        await self.app(scope, recording, send)

    def _add(self, kinds: list[str]) -> None:
        with self._lock:
            self.counts.update(kinds)

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)


def _kind(path: str) -> str:
    """A request's path as a kind: ids left out (``/groups/{id}/members/$ref``)."""
    parts = path.split("?")[0].split("/")
    known = {"v1.0", "users", "groups", "members", "$ref", "$batch", "delta", "oauth2"}
    return "/".join(p if p in known or p == "" else "{id}" for p in parts).removeprefix("/v1.0")


@contextmanager
def counting_cloud(directory: Path) -> Iterator[tuple[CloudServer, RequestCounter]]:
    """The cloud directory served over HTTPS (as ``serve_cloud``), its requests counted."""
    tls = ensure_local_tls(directory / "tls")
    settings = CloudSettings(
        database_url=f"sqlite:///{directory / 'cloud.db'}",
        master_key=secrets.token_urlsafe(32),
    )
    service = CloudService(settings)
    counter = RequestCounter(create_app(service))
    try:
        with ThreadedServer(counter, TlsConfig(tls.certificate, tls.private_key)) as server:  # type: ignore[arg-type]
            yield CloudServer(service, server.base_url, tls.ca_certificate), counter
    finally:
        service.close()


def graph_writes(before: Counter[str], after: Counter[str]) -> dict[str, int]:
    """The Graph requests between two snapshots: HTTP requests, ``$batch`` requests,
    and the writes inside the ``$batch`` requests by kind."""
    seen = after - before
    return {
        "http_requests": sum(v for k, v in seen.items() if not k.startswith(BATCHED)),
        "batch_requests": seen["POST /$batch"],
        "user_creates": seen[f"{BATCHED}POST /users"],
        "group_creates": seen[f"{BATCHED}POST /groups"],
        "member_additions": seen[f"{BATCHED}POST /groups/{{id}}/members/$ref"],
        "member_removals": seen[f"{BATCHED}DELETE /groups/{{id}}/members/{{id}}/$ref"],
        "other_batched": sum(
            v for k, v in seen.items()
            if k.startswith(BATCHED) and not k.endswith(("/users", "/groups", "/$ref"))
        ),
    }  # fmt: skip


# -- the directory: users, groups, memberships ---------------------------------------------


class Shape:
    """The directory: ``users`` users, each in ``memberships`` consecutive groups of
    N/10 (at least twice ``memberships``, so that a user can join one it is not in)."""

    def __init__(self, users: int, memberships: int = MEMBERSHIPS) -> None:
        self.users = users
        self.memberships = memberships
        self.groups = max(2 * memberships, users // 10)

    def moves(self) -> list[tuple[int, int, int]]:
        """The delta's changes: (user, group left, group joined); 50 users, 100 changes."""
        step = self.memberships
        return [(u, u % self.groups, (u + step) % self.groups) for u in range(CHANGES // 2)]

    def members(self, moved: bool) -> list[list[int]]:
        """Each group's member users, before or after the delta's changes."""
        found: list[list[int]] = [[] for _ in range(self.groups)]
        for user in range(self.users):
            for step in range(self.memberships):
                found[(user + step) % self.groups].append(user)
        if not moved:
            return found
        for user, left, joined in self.moves():
            found[left].remove(user)
            found[joined].append(user)
        return found


def _guid(name: str) -> str:
    return base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, name).bytes_le).decode()


def _sid(rid: int) -> str:
    raw = bytes([1, 5]) + (5).to_bytes(6, "big")
    raw += b"".join(part.to_bytes(4, "little") for part in (21, 7, 8, 9, rid))
    return base64.b64encode(raw).decode()


def user_dn(user: int) -> str:
    return f"CN=user{user:06d},OU=Bench,DC=contoso,DC=com"


def group_dn(group: int) -> str:
    return f"CN=group{group:05d},OU=Bench,DC=contoso,DC=com"


def write_ldif(path: Path, shape: Shape, moved: bool) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("version: 1\n")
        for user in range(shape.users):
            sam = f"user{user:06d}"
            out.write(
                f"\ndn: {user_dn(user)}\nobjectClass: user\nobjectGUID:: {_guid(sam)}\n"
                f"sAMAccountName: {sam}\nuserPrincipalName: {sam}@contoso.com\n"
                f"displayName: User {user}\nuserAccountControl: 512\n"
            )
        for group, users_in in enumerate(shape.members(moved)):
            name = f"group{group:05d}"
            out.write(
                f"\ndn: {group_dn(group)}\nobjectClass: group\nobjectGUID:: {_guid(name)}\n"
                f"objectSid:: {_sid(10_000 + group)}\ncn: {name}\nsAMAccountName: {name}\n"
                f"groupType: {SECURITY_GLOBAL}\n"
            )
            out.writelines(f"member: {user_dn(user)}\n" for user in users_in)


# -- the raw baseline -----------------------------------------------------------------------


def raw_batch_seconds(tenant: CloudTenant, shape: Shape) -> float:
    """The cycle's writes as pre-built ``$batch`` bodies of 20, ``CONCURRENCY`` in flight:
    users, then groups, then their members (each step needs the ids of the one before)."""
    token = tenant.app_token(tenant.sync_app)
    user_bodies = [
        {"onPremisesImmutableId": _guid(f"user{u:06d}"), "accountEnabled": True,
         "userPrincipalName": f"user{u:06d}@{tenant.domain}", "displayName": f"User {u}",
         "mailNickname": f"user{u:06d}"}
        for u in range(shape.users)
    ]  # fmt: skip
    group_bodies = [
        {"displayName": f"group{g:05d}", "mailNickname": f"group{g:05d}",
         "securityEnabled": True, "mailEnabled": False,
         "onPremisesSecurityIdentifier": f"S-1-5-21-7-8-9-{10_000 + g}"}
        for g in range(shape.groups)
    ]  # fmt: skip
    with tenant.client(token) as http:
        started = time.perf_counter()
        user_ids = _send(http, [("POST", "/users", body) for body in user_bodies])
        group_ids = _send(http, [("POST", "/groups", body) for body in group_bodies])
        root = f"{tenant.server.base_url}/v1.0/directoryObjects"
        refs = [
            ("POST", f"/groups/{group_ids[g]}/members/$ref",
             {"@odata.id": f"{root}/{user_ids[u]}"})
            for g, users_in in enumerate(shape.members(moved=False))
            for u in users_in
        ]  # fmt: skip
        _send(http, refs)
        return time.perf_counter() - started


def _send(http: Any, requests: Sequence[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Send the requests in ``$batch`` bodies of 20; the ids of what they created."""
    bodies = [
        {"requests": [
            {"id": str(n), "method": method, "url": url,
             "headers": {"Content-Type": "application/json"}, "body": body}
            for n, (method, url, body) in enumerate(requests[start : start + 20])
        ]}
        for start in range(0, len(requests), 20)
    ]  # fmt: skip
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(lambda body: http.post(BATCH, json=body, timeout=120), bodies))
    ids: list[str] = []
    for answer in answers:
        assert answer.status_code == 200, answer.text[:300]
        items = sorted(answer.json()["responses"], key=lambda item: int(item["id"]))
        assert all(item["status"] in (201, 204) for item in items), answer.text[:300]
        ids += [str((item.get("body") or {}).get("id", "")) for item in items]
    return ids


# -- hybridsync -----------------------------------------------------------------------------


def write_config(root: Path, server: CloudServer, tenant: CloudTenant, source: str) -> Path:
    config = root / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"

[safety]
deletion_threshold = 1000000

[builtin_rules]
source = "ad"
target = "cloud"
{source}
{graph_connector_toml(server, tenant, root)}concurrency = {CONCURRENCY}
write_quotas = []   # the served directory here has no quotas; raw $batch has no budget
""",
        encoding="utf-8",
    )
    return config


LDIF_SOURCE = """
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
object_types = ["user", "group"]
"""


def hybridsync_run(config: Path, *args: str) -> tuple[float, dict[str, Any]]:
    """Run ``hybridsync run ARGS --json``: wall seconds and the report (``cpu_s`` added)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    done = subprocess.run(
        [HYBRIDSYNC, "run", *args, "--json", "-c", str(config)],
        capture_output=True, text=True, cwd=config.parent, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"hybridsync run {' '.join(args)}: {done.returncode}\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    report["cpu_s"] = round(usage.ru_utime + usage.ru_stime - cpu_before, 3)
    return elapsed, report


def phases(report: dict[str, Any]) -> dict[str, float]:
    return {f"{r['connector']} {r['profile']}": r["seconds"] for r in report["runs"]}


def cycle_seconds(report: dict[str, Any]) -> float:
    """The cycle's own duration, as the engine reports it: from its first run's start to
    its last run's end (no process start, no configuration loading, no engine build)."""
    runs = report["runs"]
    started = datetime.fromisoformat(runs[0]["started"])
    ended = datetime.fromisoformat(runs[-1]["ended"])
    return round((ended - started).total_seconds(), 3)


def errors(report: dict[str, Any]) -> list[str]:
    return [f"{e['dn']}: {e['message']}" for r in report["runs"] for e in r.get("errors", [])]


def note(step: str, value: object) -> None:
    """A figure as soon as it is measured, on stderr: a long run that fails late keeps
    what it measured."""
    print(f"[{time.strftime('%H:%M:%S')}] {step}: {value}", file=sys.stderr, flush=True)


def measure(
    root: Path,
    server: CloudServer,
    counter: RequestCounter,
    shape: Shape,
    source: str,
    change: Callable[[], None],
) -> dict[str, Any]:
    """The baseline, the initial cycle and the delta cycle after ``change()``."""
    before = counter.snapshot()
    raw = raw_batch_seconds(server.new_tenant(), shape)
    raw_writes = graph_writes(before, counter.snapshot())
    note("raw $batch", f"{raw:.1f} s, {raw_writes}")
    tenant = server.new_tenant("contoso.com")
    config = write_config(root, server, tenant, source)
    before = counter.snapshot()
    initial_wall, initial = hybridsync_run(config, "initial")
    initial_writes = graph_writes(before, counter.snapshot())
    note("run initial", f"{initial_wall:.1f} s wall, {phases(initial)}, {initial_writes}")
    if errors(initial):
        raise SystemExit(f"initial cycle: {errors(initial)[:5]}")
    # The first delta after an initial cycle imports what that cycle exported (its
    # confirming import: every user and group, every group's members read once);
    # measured apart, then the 100 changes are made and the next delta measured.
    before = counter.snapshot()
    confirm_wall, confirm = hybridsync_run(config, "delta")
    confirm_requests = graph_writes(before, counter.snapshot())["http_requests"]
    note("confirming delta", f"{confirm_wall:.1f} s wall, {phases(confirm)}")
    change()
    before = counter.snapshot()
    delta_wall, delta = hybridsync_run(config, "delta")
    delta_writes = graph_writes(before, counter.snapshot())
    if errors(delta):
        raise SystemExit(f"delta cycle: {errors(delta)[:5]}")
    return {
        "raw_batch_s": round(raw, 3),
        "raw_requests": raw_writes,
        "initial_wall_s": round(initial_wall, 3),
        "initial_cycle_s": cycle_seconds(initial),
        "initial_cpu_s": initial["cpu_s"],
        "initial_phases_s": phases(initial),
        "initial_requests": initial_writes,
        "confirm_wall_s": round(confirm_wall, 3),
        "confirm_cycle_s": cycle_seconds(confirm),
        "confirm_phases_s": phases(confirm),
        "confirm_http_requests": confirm_requests,
        "delta_wall_s": round(delta_wall, 3),
        "delta_cycle_s": cycle_seconds(delta),
        "delta_cpu_s": delta["cpu_s"],
        "delta_phases_s": phases(delta),
        "delta_requests": delta_writes,
    }


def run_ldif(
    root: Path, server: CloudServer, counter: RequestCounter, shape: Shape
) -> dict[str, Any]:
    root.mkdir()
    write_ldif(root / "ad.ldif", shape, moved=False)
    result = measure(
        root, server, counter, shape, LDIF_SOURCE,
        lambda: write_ldif(root / "ad.ldif", shape, moved=True),
    )  # fmt: skip
    result["initial_ratio"] = round(result["initial_wall_s"] / result["raw_batch_s"], 2)
    return result


def run_samba(
    root: Path, server: CloudServer, counter: RequestCounter, shape: Shape
) -> dict[str, Any]:
    from tests.support.samba import ad_connector_toml, running_samba_dc

    root.mkdir()
    with running_samba_dc(root / "dc") as dc:
        started = time.perf_counter()
        ou = dc.add_ou("Bench")
        dns = dc.add_users_bulk(shape.users, ou_dn=ou, prefix="user")
        group_dns = [
            dc.add_group(f"group{g:05d}", ou_dn=ou, members=[dns[u] for u in users_in])
            for g, users_in in enumerate(shape.members(moved=False))
        ]
        provisioned = time.perf_counter() - started

        def change() -> None:
            # A connection of its own: the shared one idled through the initial cycle
            # (a quarter of an hour at 10,000 users), and Samba drops idle connections.
            import ldap

            conn = dc.connect()
            try:
                for user, left, joined in shape.moves():
                    member = [dns[user].encode()]
                    conn.modify_s(group_dns[left], [(ldap.MOD_DELETE, "member", member)])
                    conn.modify_s(group_dns[joined], [(ldap.MOD_ADD, "member", member)])
            finally:
                conn.unbind_s()

        os.environ[PASSWORD_ENV] = dc.admin_password
        try:
            source = ad_connector_toml(dc, PASSWORD_ENV, [ou])
            result = measure(root, server, counter, shape, source, change)
        finally:
            os.environ.pop(PASSWORD_ENV, None)
    result["provision_s"] = round(provisioned, 2)
    result["initial_ratio"] = round(result["initial_wall_s"] / result["raw_batch_s"], 2)
    return result


def compile_bytecode() -> None:
    """Compile the environment's modules and hybridsync's, as an installer does: a
    process that must compile every module it imports starts seconds slower."""
    package = Path(__file__).resolve().parents[1] / "src" / "hybridsync"
    for directory in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        compileall.compile_dir(directory, quiet=2, workers=0)
    compileall.compile_dir(package, quiet=2, workers=0)


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--source", choices=("ldif", "samba", "both"), default="both")
    parser.add_argument("--memberships", type=int, default=MEMBERSHIPS, help="groups per user")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-bytecode", action="store_true", help="skip compiling (tests)")
    args = parser.parse_args(argv)
    if args.users < CHANGES // 2 or args.memberships < 1:
        parser.error(f"--users: at least {CHANGES // 2}; --memberships: at least 1")
    shape = Shape(args.users, args.memberships)
    if not args.no_bytecode:
        compile_bytecode()
    result: dict[str, Any] = {
        "users": shape.users,
        "groups": shape.groups,
        "memberships": shape.users * shape.memberships,
        "load_average_start": load_average(),
    }
    with tempfile.TemporaryDirectory() as tmp, counting_cloud(Path(tmp) / "cloud") as served:
        server, counter = served
        if args.source in ("ldif", "both"):
            result["ldif"] = run_ldif(Path(tmp) / "ldif", server, counter, shape)
        if args.source in ("samba", "both"):
            result["samba"] = run_samba(Path(tmp) / "samba", server, counter, shape)
    result["load_average_end"] = load_average()
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:20} {value}")
    return result


if __name__ == "__main__":
    main()
