"""``hybridsync status`` names what it counts: sent values awaiting confirmation by the
next import are not pending exports, and an object in error is not a pending import."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.integration.product.conftest import invoke


def status(workspace: Path) -> dict[str, dict[str, Any]]:
    code, output = invoke("status", "-c", str(workspace), "--json")
    assert code == 0, output
    return {row["connector"]: row for row in json.loads(output)["connectors"]}


def test_after_an_export_values_await_confirmation_and_errors_are_errors(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    ldif = workspace.parent / "ad.ldif"
    text = ldif.read_text("utf-8")
    ldif.write_text(text.replace("userPrincipalName: wmoran@contoso.com\n", ""), "utf-8")
    assert invoke("run", "initial", "-c", str(workspace))[0] == 1  # one object error
    rows = status(workspace)
    assert rows["cloud"]["pending_exports"] == 0  # the export succeeded
    assert rows["cloud"]["awaiting_confirmation"] == 19  # until the next import reads them
    assert rows["ad"]["objects_in_error"] == 1
    assert rows["ad"]["pending_imports"] == 0  # William Moran is in error, not pending
    code, output = invoke("status", "-c", str(workspace))
    assert code == 0
    assert re.search(r"\n  awaiting confirmation: 19 \(exported; the next import", output)
    assert re.search(r"\n  in error: +1 \(hybridsync history --errors\)\n", output)
    assert re.search(r"\n  pending exports: +0\n", output)
    assert "staging mode:       off\n" in output  # words, not Python's False
    assert all(len(line) <= 80 for line in output.splitlines())

    assert invoke("run", "delta", "-c", str(workspace))[0] == 1  # the cloud import confirms
    rows = status(workspace)
    assert rows["cloud"]["awaiting_confirmation"] == 0
    assert rows["cloud"]["pending_exports"] == 0
    assert rows["ad"]["objects_in_error"] == 1  # still failing, still counted once
    assert rows["ad"]["pending_imports"] == 0
