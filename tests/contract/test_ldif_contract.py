from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.contract.suites import SourceSuite

from hybridsync.connectors.ldif import LdifConfig, LdifSource

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "contoso-20.ldif"


@pytest.fixture
def ldif_path(tmp_path: Path) -> Path:
    path = tmp_path / "ad.ldif"
    path.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def connector(ldif_path: Path) -> LdifSource:
    return LdifSource(LdifConfig(name="ad", path=ldif_path, page_size=7))


@pytest.fixture
def mutate(ldif_path: Path) -> Callable[[], tuple[str, str, str]]:
    def change() -> tuple[str, str, str]:
        entries = ldif_path.read_text(encoding="utf-8").split("\n\n")
        entries = [e for e in entries if "sAMAccountName: nowens" not in e]
        entries = [
            e.replace("title: Engineer", "title: Lead") if "wmoran" in e else e for e in entries
        ]
        new = next(e for e in entries if "sAMAccountName: kmeyer" in e)
        new = re.sub(  # a new object: a new, well-formed (16-byte) objectGUID
            r"objectGUID:: \S+",
            "objectGUID:: " + base64.b64encode(uuid.uuid4().bytes).decode(),
            new.replace("kmeyer", "knew").replace("Karl Meyer", "Karl New"),
        )
        ldif_path.write_text("\n\n".join([*entries, new]), encoding="utf-8")
        return (
            "CN=William Moran,OU=Staff,DC=contoso,DC=com",
            "",
            "CN=Karl New,OU=Staff,DC=contoso,DC=com",
        )

    return change


class TestLdifSource(SourceSuite):
    pass
