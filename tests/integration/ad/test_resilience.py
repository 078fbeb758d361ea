"""A DC that goes away mid-import, and watermarks that outlive the process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from itertools import chain
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT
from tests.integration.ad.conftest import PASSWORD_ENV
from tests.integration.ad.space import ConnectorSpace
from tests.support.samba import SambaDC

from hybridsync.connectors.ad import ADConnector
from hybridsync.errors import FatalConnectorError

pytestmark = pytest.mark.samba


def test_server_stopped_mid_import_fails_cleanly_and_the_next_run_succeeds(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str],
    make_connector: Callable[..., ADConnector], space: ConnectorSpace,
) -> None:  # fmt: skip
    samba_dc.add_users_bulk(250, ou_dn=ou, prefix=n("st"))
    space.full(make_connector().full_import())
    before, watermark = space.view(), space.watermark
    pages = make_connector(reconnect_attempts=1, page_size=100).full_import()
    first = next(pages)
    samba_dc.stop()
    try:
        with pytest.raises(FatalConnectorError, match="unreachable"):
            space.full(chain([first], pages))
        assert space.view() == before
        assert space.watermark == watermark
    finally:
        samba_dc.start()
    space.full(make_connector().full_import())
    assert space.view() == before


def test_a_dropped_connection_is_resumed_without_duplicates(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], make_connector: Callable[..., ADConnector]
) -> None:
    dns = samba_dc.add_users_bulk(250, ou_dn=ou, prefix=n("rc"))
    pages = make_connector(reconnect_attempts=4, page_size=100).full_import()
    records = list(next(pages).objects)
    samba_dc.stop()
    samba_dc.start()
    records += [record for page in pages for record in page.objects]
    assert sorted(r.dn for r in records) == sorted(dns)


DELTA_SCRIPT = """
import json, sys
from hybridsync.connectors.ad import ADConnector, ADSettings
settings = ADSettings.model_validate_json(sys.argv[1])
watermark = open(sys.argv[2]).read()
pages = list(ADConnector("corp", settings).delta_import(watermark))
open(sys.argv[2], "w").write(next(p.watermark for p in reversed(pages) if p.watermark))
records = [r for p in pages for r in p.objects if r.kind.value != "delete"]
print("RESULT", json.dumps([[r.kind.value, r.dn] for r in records]))
"""


def _delta_in_new_process(connector: ADConnector, watermark_file: Path) -> list[list[str]]:
    settings = connector._settings.model_dump_json()
    done = subprocess.run(
        [sys.executable, "-c", DELTA_SCRIPT, settings, str(watermark_file)],
        check=True, capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result: list[list[str]] = json.loads(line.removeprefix("RESULT "))
    return result


@pytest.mark.parametrize("mode", ["dirsync", "usn"])
def test_the_watermark_survives_a_process_restart(
    samba_dc: SambaDC, ou: str, n: Callable[[str], str], mode: str, tmp_path: Path,
    make_connector: Callable[..., ADConnector], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv(PASSWORD_ENV, samba_dc.admin_password)  # inherited by the child
    dn = samba_dc.add_user(n("persist"), ou_dn=ou, upn=f"{n('persist')}@contoso.com")
    connector = make_connector(delta_mode=mode)
    watermark_file = tmp_path / "watermark"
    watermark_file.write_text(list(connector.full_import())[-1].watermark or "")
    samba_dc.modify(dn, {"title": "After restart"})
    expected_kind = "update" if mode == "dirsync" else "replace"
    assert _delta_in_new_process(connector, watermark_file) == [[expected_kind, dn]]
    assert _delta_in_new_process(connector, watermark_file) == []
