"""The bundled Contoso sample is what its generator writes, and every reference in it
(a group's members, a user's manager) names an entry of the sample."""

from __future__ import annotations

import runpy

from ldif import LDIFRecordList
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "src" / "hybridsync" / "samples" / "contoso.ldif"


def test_the_sample_is_the_generators_output() -> None:
    generator = runpy.run_path(str(REPO_ROOT / "scripts" / "make_contoso_sample.py"))
    assert generator["build"]() == SAMPLE.read_text(encoding="utf-8")


def test_every_reference_names_an_entry_of_the_sample() -> None:
    with SAMPLE.open("rb") as stream:
        records = LDIFRecordList(stream)
        records.parse()
    dns = {dn.lower() for dn, _ in records.all_records}
    references = [
        (dn, value.decode("utf-8"))
        for dn, entry in records.all_records
        for name in ("member", "manager")
        for value in entry.get(name, [])
    ]
    assert len(references) > 30
    assert [(dn, ref) for dn, ref in references if ref.lower() not in dns] == []
    groups = {dn for dn, entry in records.all_records if b"group" in entry["objectClass"]}
    critical = [dn for dn, e in records.all_records if e.get("isCriticalSystemObject")]
    assert critical == ["CN=Domain Admins,OU=Groups,DC=corp,DC=contoso,DC=com"]
    assert len(groups) == 4
