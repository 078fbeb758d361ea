"""End to end: Samba AD DC → ``hybridsync run`` → the cloud directory served over HTTPS.

    uv run python bench/e2e.py [--users N] [--json]     (default 10,000; 10% partners)

In one run, against one throw-away DC and one served directory:

- baselines: ``ldapsearch`` of the AD connector's attribute list (import) and raw
  ``$batch`` POSTs creating the same users in a fresh tenant (export);
- ``hybridsync run initial`` as a real process: wall time, and time per phase from its
  report, each beside its baseline, and the ratio overall (hybridsync's wall time over
  ldapsearch + raw ``$batch``; ``phases_ratio`` leaves out the process start);
- a delta cycle after changing 1% of the users (``hybridsync run delta``);
- latency: from an attribute change in AD to the change visible in the cloud, with
  ``hybridsync run --delta`` started right after the change (three times; the median).

Every ``hybridsync`` process is measured in wall time and in CPU time (user + system),
beside the load average: the machine may be shared. Before measuring, the environment's
bytecode is compiled, as ``pip install`` does (a process that must compile every module
it imports, e.g. under ``PYTHONDONTWRITEBYTECODE=1``, starts seconds slower).

Needs root (a loopback address for the DC) and the samba and ldap-utils packages.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from tests.support.cloud_server import (
    CloudServer,
    CloudTenant,
    create_in_batches,
    graph_connector_toml,
    serve_cloud,
)
from tests.support.samba import SambaDC, ad_connector_toml, running_samba_dc

from hybridsync.connectors.ad import DEFAULT_ATTRIBUTES

PASSWORD_ENV = "HYBRIDSYNC_AD_PASSWORD"
CONCURRENCY = 4  # the Graph connector's default
USER_FILTER = "(&(objectClass=user)(!(objectClass=computer)))"
HYBRIDSYNC = str(Path(sys.executable).parent / "hybridsync")


def provision(dc: SambaDC, users: int) -> tuple[str, list[str]]:
    """An OU with ``users`` users, one in ten a partner (UPN at partners.contoso.com)."""
    ou = dc.add_ou("Bench")
    partners = users // 10
    attributes = {"department": "R&D", "title": "Engineer"}
    dns = dc.add_users_bulk(users - partners, ou_dn=ou, prefix="m", attributes=attributes)
    dns += dc.add_users_bulk(
        partners, ou_dn=ou, prefix="p", upn_suffix="partners.contoso.com", attributes=attributes
    )
    return ou, dns


def ldapsearch_seconds(dc: SambaDC, ou: str) -> float:
    env = {**os.environ, "LDAPTLS_CACERT": str(dc.ca_file), "LDAPTLS_REQCERT": "demand"}
    started = time.perf_counter()
    subprocess.run(
        ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-H", dc.ldaps_url, "-x",
         "-D", dc.admin_upn, "-w", dc.admin_password, "-b", ou, "-E", "pr=1000/noprompt",
         USER_FILTER, *DEFAULT_ATTRIBUTES],
        check=True, stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    return time.perf_counter() - started


def raw_batch_seconds(tenant: CloudTenant, users: int) -> float:
    """Pre-built ``$batch`` bodies of 20 creates, ``CONCURRENCY`` in flight, nothing else."""
    return create_in_batches(tenant, [_user_body(tenant, i) for i in range(users)], CONCURRENCY)


def _user_body(tenant: CloudTenant, i: int) -> dict[str, Any]:
    partner = i % 10 == 0
    domain = tenant.partner_domain if partner else tenant.domain
    return {
        "onPremisesImmutableId": f"ANCHOR{i:07d}",
        "userPrincipalName": f"user{i}@{domain}",
        "displayName": f"User {i}",
        "givenName": f"Given{i}",
        "surname": f"Surname{i}",
        "mailNickname": f"user{i}",
        "accountEnabled": False,
        "userType": "Guest" if partner else "Member",
        "department": "R&D",
        "jobTitle": "Engineer",
    }


def write_config(
    root: Path, dc: SambaDC, server: CloudServer, tenant: CloudTenant, ou: str
) -> Path:
    config = root / "hybridsync.toml"
    config.write_text(
        f"""
store = "state.db"

[safety]
deletion_threshold = 1000000

[builtin_rules]
source = "ad"
target = "cloud"

[user_type]
source = "upn-suffix"
suffixes = ["@partners.contoso.com"]
{ad_connector_toml(dc, PASSWORD_ENV, [ou])}
{graph_connector_toml(server, tenant, root)}concurrency = {CONCURRENCY}
write_quotas = []   # the served directory here has no quotas; raw $batch has no budget
""",
        encoding="utf-8",
    )
    return config


def hybridsync_run(config: Path, *args: str) -> tuple[float, dict[str, Any]]:
    """Run ``hybridsync run ARGS --json``: wall seconds and the report (with the
    process's CPU seconds added as ``cpu_s``)."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [HYBRIDSYNC, "run", *args, "--json", "-c", str(config)],
        capture_output=True, text=True, cwd=config.parent, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"hybridsync run {' '.join(args)}: {done.returncode}\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout)
    report["cpu_s"] = round(_children_cpu() - cpu_before, 3)
    return elapsed, report


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compile_bytecode() -> float:
    """Compile the environment's modules and hybridsync's, as an installer does."""
    started = time.perf_counter()
    package = Path(__file__).resolve().parents[1] / "src" / "hybridsync"
    for directory in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        compileall.compile_dir(directory, quiet=2, workers=0)
    compileall.compile_dir(package, quiet=2, workers=0)
    return time.perf_counter() - started


def phases(report: dict[str, Any]) -> dict[str, float]:
    """Seconds per ``connector profile`` of a cycle report."""
    return {f"{r['connector']} {r['profile']}": r["seconds"] for r in report["runs"]}


def exported(report: dict[str, Any]) -> int:
    runs = [r for r in report["runs"] if r["profile"] == "export"]
    return sum(r["counts"].get(k, 0) for r in runs for k in ("add", "update", "delete"))


def change_latency(
    dc: SambaDC, tenant: CloudTenant, config: Path, dn: str, value: str
) -> tuple[float, float]:
    """From a change in AD to the change visible in the cloud, with ``run --delta``;
    and the CPU seconds of that ``hybridsync`` process."""
    sam = dn.split(",")[0].removeprefix("CN=")
    with tenant.client(tenant.app_token(tenant.admin_app)) as http:
        started = time.perf_counter()
        dc.modify(dn, {"department": value})
        _, report = hybridsync_run(config, "--delta")
        while True:
            answer = http.get(
                "/v1.0/users",
                params={"$filter": f"onPremisesSamAccountName eq '{sam}'",
                        "$select": "department"},
            )  # fmt: skip
            answer.raise_for_status()
            found = answer.json()["value"]
            if found and found[0]["department"] == value:
                return time.perf_counter() - started, report["cpu_s"]
            if time.perf_counter() - started > 60:
                raise SystemExit("the change never reached the cloud")
            time.sleep(0.02)


def run(users: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, running_samba_dc(Path(tmp) / "dc") as dc:
        root = Path(tmp)
        started = time.perf_counter()
        ou, dns = provision(dc, users)
        provisioned = time.perf_counter() - started
        os.environ[PASSWORD_ENV] = dc.admin_password
        try:
            measured = _measure(root, dc, ou, dns, users)
        finally:
            os.environ.pop(PASSWORD_ENV, None)
    return {"users": users, "provision_s": round(provisioned, 2), **measured}


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def _measure(root: Path, dc: SambaDC, ou: str, dns: list[str], users: int) -> dict[str, Any]:
    with serve_cloud(root / "cloud") as server:
        ldapsearch = ldapsearch_seconds(dc, ou)
        raw_batch = raw_batch_seconds(server.new_tenant("fabrikam.com"), users)
        tenant = server.new_tenant("contoso.com")
        config = write_config(root, dc, server, tenant, ou)
        initial_wall, initial = hybridsync_run(config, "initial")
        assert exported(initial) == users, initial
        for dn in dns[::100]:
            dc.modify(dn, {"title": "Changed"})
        delta_wall, delta = hybridsync_run(config, "delta")
        assert exported(delta) == len(dns[::100]), delta
        latencies = [
            change_latency(dc, tenant, config, dns[len(dns) // 2 + i], f"Latency{i}")
            for i in range(3)
        ]
    initial_phases = phases(initial)
    baseline = ldapsearch + raw_batch
    return {
        "ldapsearch_s": round(ldapsearch, 3),
        "raw_batch_s": round(raw_batch, 3),
        "initial_wall_s": round(initial_wall, 3),
        "initial_cpu_s": initial["cpu_s"],
        "initial_phases_s": initial_phases,
        "import_ratio": round(initial_phases["ad full-import"] / ldapsearch, 2),
        "export_ratio": round(initial_phases["cloud export"] / raw_batch, 2),
        "overall_ratio": round(initial_wall / baseline, 2),
        "phases_ratio": round(sum(initial_phases.values()) / baseline, 2),
        "delta_changes": len(dns[::100]),
        "delta_wall_s": round(delta_wall, 3),
        "delta_cpu_s": delta["cpu_s"],
        "delta_phases_s": phases(delta),
        "change_to_cloud_s": round(statistics.median([s for s, _ in latencies]), 3),
        "change_to_cloud_runs_s": [round(seconds, 3) for seconds, _ in latencies],
        "change_run_cpu_s": [cpu for _, cpu in latencies],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="skip compiling bytecode (tests)"
    )
    args = parser.parse_args(argv)
    if shutil.which("ldapsearch") is None:
        sys.exit("ldapsearch is needed (Debian package ldap-utils)")
    bytecode = 0.0 if args.no_bytecode else compile_bytecode()
    load_before = load_average()
    result = {**run(args.users), "bytecode_s": round(bytecode, 1)}
    result["load_average"] = f"{load_before} -> {load_average()}"
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:20} {value}")
    return result


if __name__ == "__main__":
    main()
