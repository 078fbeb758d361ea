"""ISMEMBEROF benchmark: the full sync of N users scoped by a group of N/2 members.

Two stores hold the same LDIF directory with a rule that keeps the same half of the
users out of the cloud: scoped on an attribute the members carry (``department NOTEQUAL
Pilot``, the baseline) and scoped ``ISNOTMEMBEROF`` the group (group-based filtering).
After an initial cycle in each, full syncs alternate between the two (twice each, the
best of each counts); they do the same work but the scope test, so the ratio is the
cost of the membership test. Then a delta
cycle after 1% of the members left the group and as many joined it: only the group
changed in the directory, and exactly those users must be re-evaluated.

Usage: ``uv run python bench/member_of.py [N]`` (default 100,000).
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from tests.support.rules import cloud_filter_rule

from hybridsync.config import Config
from hybridsync.engine import Profile
from hybridsync.wiring import Built, build

GROUP = "CN=Pilot,OU=Groups,DC=contoso,DC=com"


def _dn(index: int) -> str:
    return f"CN=User {index:06d},OU=Staff,DC=contoso,DC=com"


def _guid(index: int) -> str:
    return base64.b64encode(uuid.UUID(int=index + 1).bytes_le).decode()


def write_directory(path: Path, count: int, members: set[int], pilots: set[int]) -> None:
    """Users (``pilots`` with ``department: Pilot``) and the group with ``members``."""
    with path.open("w", encoding="utf-8") as out:
        out.write("version: 1\n\n")
        for index in range(count):
            sam = f"u{index:06d}"
            out.write(
                f"dn: {_dn(index)}\nobjectGUID:: {_guid(index)}\nobjectClass: top\n"
                f"objectClass: user\ncn: User {index:06d}\nsAMAccountName: {sam}\n"
                f"userPrincipalName: {sam}@contoso.com\nuserAccountControl: 512\n"
                + ("department: Pilot\n\n" if index in pilots else "\n")
            )
        out.write(f"dn: {GROUP}\nobjectGUID:: {_guid(count + 1)}\nobjectClass: top\n")
        out.write("objectClass: group\ncn: Pilot\nsAMAccountName: Pilot\n")
        out.writelines(f"member: {_dn(index)}\n" for index in sorted(members))


def _engine(root: Path, name: str, ldif: Path, count: int, *, scoped: bool) -> Built:
    clause = ("memberOf", "ISNOTMEMBEROF", GROUP) if scoped else ("department", "NOTEQUAL", "Pilot")
    rule = cloud_filter_rule(*clause, name="In from AD - Pilot only")
    (root / f"{name}.toml").write_text(rule, encoding="utf-8")
    return build(
        Config.model_validate(
            {
                "store": str(root / f"{name}.db"),
                "rules": [str(root / f"{name}.toml")],
                "builtin_rules": {"source": "ad", "target": "cloud"},
                "safety": {"deletion_threshold": count},
                "connectors": [
                    {
                        "type": "ldif",
                        "name": "ad",
                        "path": str(ldif),
                        "object_types": ["user", "group"],
                    },
                    {"type": "recording", "name": "cloud", "path": str(root / f"{name}-cloud.db")},
                ],
            }
        )
    )


def _full_sync_seconds(built: Built) -> float:
    report = built.engine.run("ad", Profile.FULL_SYNC)
    if report.status != "success":
        raise SystemExit(f"full sync: {report.status} {report.message}")
    return report.seconds


def _cloud_users(built: Built) -> int:
    return len(built.connectors["cloud"].objects())  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("users", nargs="?", type=int, default=100_000)
    count: int = parser.parse_args(argv).users
    members = set(range(0, count, 2))
    original = set(members)
    with tempfile.TemporaryDirectory(prefix="hybridsync-bench-") as tmp:
        root = Path(tmp)
        ldif = root / "ad.ldif"
        write_directory(ldif, count, members, members)
        plain = _engine(root, "plain", ldif, count, scoped=False)
        scoped = _engine(root, "scoped", ldif, count, scoped=True)
        try:
            plain.engine.cycle("initial")
            scoped.engine.cycle("initial")
            runs: dict[str, list[float]] = {"plain": [], "scoped": []}
            for _ in range(2):  # alternating, so load from elsewhere hits both alike
                runs["plain"].append(_full_sync_seconds(plain))
                runs["scoped"].append(_full_sync_seconds(scoped))
            plain_s, scoped_s = min(runs["plain"]), min(runs["scoped"])
            if (_cloud_users(plain), _cloud_users(scoped)) != (len(members), len(members)):
                raise SystemExit("wrong result: both runs must export the members only")
            moved = max(1, count // 100)
            leaving = set(sorted(members)[:moved])
            joining = set(range(1, 2 * moved, 2))
            members = (members - leaving) | joining
            # only the group changes: the users' own entries stay as they were
            write_directory(ldif, count, members, original)
            started = time.perf_counter()
            cycle = scoped.engine.cycle("delta")
            delta_s = time.perf_counter() - started
            marked = sum(r.counts.get("membership-changed", 0) for r in cycle.runs)
            if marked != len(leaving) + len(joining) or _cloud_users(scoped) != len(members):
                raise SystemExit(f"wrong delta result: {marked} marked")
        finally:
            plain.close()
            scoped.close()
    result = {
        "users": count,
        "attribute_scoped_full_sync_s": round(plain_s, 6),
        "member_of_full_sync_s": round(scoped_s, 6),
        "ratio": round(scoped_s / plain_s, 2),
        "delta_cycle_s": round(delta_s, 3),
        "marked": marked,
    }
    print(
        f"{count:,} users, group of {count // 2:,}: full sync {plain_s:.2f} s scoped on an "
        f"attribute, {scoped_s:.2f} s on ISNOTMEMBEROF, ratio {result['ratio']}; delta cycle after "
        f"{marked:,} membership changes {delta_s:.2f} s"
    )
    print(result)
    return result


if __name__ == "__main__":
    main()
