"""What the commands print never shows Python's own spelling of a value: no ``None``,
``True``/``False``, ``['a', 'b']`` lists or ``[Errno 2]`` in a message."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.product.conftest import invoke

from hybridsync.errors import error_text

PYTHON_SPELLING = re.compile(r"\bNone\b|\bTrue\b|\bFalse\b|\['|\[Errno|after 0 retries")


def assert_plain(output: str) -> None:
    found = PYTHON_SPELLING.search(output)
    assert found is None, f"{found.group(0)!r} in:\n{output}"


def test_sync_commands_print_values_in_words(workspace: Path) -> None:
    c = ("-c", str(workspace))
    code, output = invoke("plan", *c)
    assert code == 0, output
    assert_plain(output)
    assert "accountEnabled: (none) -> true" in output
    assert invoke("run", "initial", *c)[0] == 0
    for command in (("preview", "wmoran@contoso.com"), ("status",), ("history", "--errors")):
        code, output = invoke(*command, *c)
        assert code == 0, output
        assert_plain(output)
    preview = invoke("preview", "wmoran@contoso.com", *c)[1]
    assert "accountEnabled = true   <- " in preview
    assert re.search(r"\n  \w+ = \(none\)   \(no rule sets it\)\n", preview), preview
    assert "\ntarget cloud: flow William Moran <wmoran@contoso.com>\n" in preview


def test_a_missing_file_is_named_with_the_reason_in_words(workspace: Path) -> None:
    missing = workspace.parent / "nowhere.json"
    code, output = invoke("apply", str(missing), "-c", str(workspace))
    assert code != 0
    assert output.strip() == f"cannot read the plan {missing}: no such file or directory"
    code, output = invoke("status", "-c", str(workspace.parent / "nowhere.toml"))
    assert code == 3
    assert_plain(output)
    assert "nowhere.toml" in output
    assert error_text(FileNotFoundError(2, "No such file or directory", "x.toml")) == (
        "x.toml: no such file or directory"
    )


def test_cloud_init_lists_roles_and_an_unknown_role_gets_the_valid_ones(tmp_path: Path) -> None:
    data = str(tmp_path / "cloud")
    code, output = invoke("cloud", "init", "--tenant-domain", "contoso.com", "--data-dir", data)
    assert code == 0, output
    assert_plain(output)
    assert re.search(r"\n  roles: Directory\.ReadWrite\.All, ", output), output
    code, output = invoke("cloud", "app", "add", "--role", "Bogus.Role", "--data-dir", data)
    assert code == 3
    assert_plain(output)
    assert "unknown application role Bogus.Role; the roles are " in output
    assert "User.Read.All" in output
