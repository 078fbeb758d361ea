"""``hybridsync expr eval`` and ``hybridsync expr check``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hybridsync.cli import app, exit_codes

USER_TYPE = (
    "IIF(IsPresent([userPrincipalName]),IIF(CBool(InStr(LCase([userPrincipalName]),"
    '"@partners.contoso.com")=0),"Member","Guest"),'
    'Error("UserPrincipalName is not present to determine UserType"))'
)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["expr", *args])
    return result.exit_code, result.stdout, result.stderr


def test_eval_prints_value_and_type() -> None:
    code, out, _ = _run("eval", USER_TYPE, "--attr", "userPrincipalName=ms@Partners.Contoso.com")
    assert code == exit_codes.SUCCESS
    assert out == "Guest\t(string)\n"


def test_eval_json_with_a_repeated_attribute_builds_a_multi_value() -> None:
    code, out, _ = _run("eval", "Trim([p])", "-a", "p= a ", "-a", "p=b ", "--json")
    assert code == exit_codes.SUCCESS
    assert json.loads(out) == {"value": ["a", "b"], "type": "multi-valued"}


def test_eval_uses_parameters() -> None:
    code, out, _ = _run(
        "eval", '"x@" & %Domain.FQDN%', "--param", "Domain.FQDN=corp.contoso.com", "--json"
    )
    assert code == exit_codes.SUCCESS
    assert json.loads(out) == {"value": "x@corp.contoso.com", "type": "string"}


def test_eval_types_of_other_results() -> None:
    cases = {
        'Len("abc")': ("3", "number"),
        "IsPresent([x])": ("False", "boolean"),
        "[x]": ("None", "null"),
        'CDate("2001-01-01")': ("2001-01-01T00:00:00Z", "datetime"),
        "IgnoreThisFlow": ("IgnoreThisFlow", "IgnoreThisFlow"),
        'CGuid("00000000-0000-0000-0000-000000000001")': ("AAAAAAAAAAAAAAAAAAAAAQ==", "binary"),
    }
    for expression, (shown, kind) in cases.items():
        code, out, _ = _run("eval", expression)
        assert (code, out) == (0, f"{shown}\t({kind})\n"), expression


def test_eval_error_names_the_position_and_exits_1() -> None:
    code, _, err = _run("eval", USER_TYPE)
    assert code == exit_codes.OBJECT_ERRORS
    column = USER_TYPE.index("Error(") + 1
    assert f"line 1, column {column} in Error: UserPrincipalName is not present" in err


def test_eval_error_as_json() -> None:
    code, out, _ = _run("eval", "Item([p], 3)", "-a", "p=a", "-a", "p=b", "--json")
    assert code == exit_codes.OBJECT_ERRORS
    report = json.loads(out)
    assert (report["function"], report["line"], report["column"]) == ("Item", 1, 1)
    assert "out of bounds" in report["message"]


def test_eval_syntax_error_exits_3_with_a_caret() -> None:
    code, _, err = _run("eval", 'Left("abc", )')
    assert code == exit_codes.CONFIG_ERROR
    assert "line 1, column 13" in err
    assert err.splitlines()[-1] == " " * 12 + "^"


def test_eval_rejects_an_attribute_without_equals() -> None:
    code, _, err = _run("eval", "[a]", "--attr", "a")
    assert code == 2
    assert "name=value" in err


def test_check_one_expression() -> None:
    assert _run("check", USER_TYPE)[:2] == (0, "ok: 1 expression(s) compile\n")


def test_check_reports_every_error_in_a_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.txt"
    rules.write_text(
        '# user flows\nLCase([mail])\nlcase([mail]) & Left([x])\n\nIIF(IsPresent([a]), "x"\n',
        encoding="utf-8",
    )
    code, _, err = _run("check", "--file", str(rules))
    assert code == exit_codes.CONFIG_ERROR
    located = [line.split(": ")[0] for line in err.splitlines() if line.startswith(str(rules))]
    assert located == [f"{rules}:3:1", f"{rules}:3:17", f"{rules}:5:24"]
    assert "did you mean LCase?" in err


def test_check_json_lists_problems(tmp_path: Path) -> None:
    code, out, _ = _run("check", 'Count("x")', "--json")
    assert code == exit_codes.CONFIG_ERROR
    report = json.loads(out)
    assert report["checked"] == 1
    assert report["problems"][0]["column"] == 7


def test_check_needs_exactly_one_source() -> None:
    assert _run("check")[0] == 2


def test_eval_takes_binary_attributes_as_base64() -> None:
    code, out, _ = _run(
        "eval", "StringFromGuid([objectGUID])", "--bin", "objectGUID=0sOxoPXkFwYoOUpbbH2Onw=="
    )
    assert (code, out) == (0, "a0b1c3d2-e4f5-0617-2839-4a5b6c7d8e9f\t(string)\n")


def test_eval_refuses_bad_base64() -> None:
    code, _, err = _run("eval", "[b]", "--bin", "b=***")
    assert code == 2
    assert "not base64" in err
