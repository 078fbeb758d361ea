"""``[guests_to_ad]``: one entry turns on the built-in guest rules; a wrong one is an
error naming the file, the key and its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hybridsync.config import ConfigProblems, load_config
from hybridsync.core.rules import Direction
from hybridsync.errors import ConfigError

EXPORT_OU = "OU=Partners,DC=corp,DC=contoso,DC=com"
GROUP_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def _config(tmp_path: Path, guests: str, export_ou: str = EXPORT_OU, builtin: bool = True) -> Path:
    names = '[builtin_rules]\nsource = "ad"\ntarget = "cloud"\n' if builtin else ""
    path = tmp_path / "hybridsync.toml"
    path.write_text(
        f"{names}\n[guests_to_ad]\n{guests}\n\n"
        f'[[connectors]]\nname = "ad"\ntype = "ad"\nexport_ou = "{export_ou}"\n\n'
        '[[connectors]]\nname = "cloud"\ntype = "graph"\n',
        "utf-8",
    )
    return path


def _problems(path: Path) -> list[tuple[str, int | None, str]]:
    with pytest.raises(ConfigProblems) as raised:
        load_config(path)
    return [(p.key, p.line, p.message) for p in raised.value.problems]


def test_one_entry_loads_the_guest_rules_for_the_named_connectors(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, f'ou = "OU=Guests, {EXPORT_OU}"'))
    rules = {rule.name: rule for rule in config.rule_set().rules}
    inbound = rules["In from Cloud - Guest Join"]
    assert (inbound.connector, inbound.direction) == ("cloud", Direction.INBOUND)
    shadow = rules["Out to AD - Guest Shadow Account"]
    assert shadow.connector == "ad"
    dn = next(flow for flow in shadow.flows if flow.target == "dn")
    assert f",OU=Guests,{EXPORT_OU}" in str(dn.expression)  # spaces after commas dropped
    control = next(flow for flow in shadow.flows if flow.target == "userAccountControl")
    assert "262658" in str(control.expression)  # smart card required, by default
    assert "262656" in str(control.expression)
    assert rules["In from AD - Guest Shadow Account"].from_targets
    # The AD connector reads the anchor; the cloud connector imports cloud guests.
    assert config.connector_additions({"name": "ad"}) == {
        "attributes": ["msDS-ExternalDirectoryObjectId"]
    }
    assert config.connector_additions({"name": "cloud"}) == {"cloud_guests": {"group": None}}


def test_smart_card_logon_can_be_left_off(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, f'ou = "{EXPORT_OU}"\nsmart_card_required = false'))
    rules = {rule.name: rule for rule in config.rule_set().rules}
    control = next(
        flow
        for flow in rules["Out to AD - Guest Shadow Account"].flows
        if flow.target == "userAccountControl"
    )
    assert "IIF([guestDisabled] = True, 514, 512)" in str(control.expression)


def test_a_scoping_group_keeps_guests_with_an_account_in_scope(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, f'ou = "{EXPORT_OU}"\ngroup = "{GROUP_ID.upper()}"'))
    rules = {rule.name: rule for rule in config.rule_set().rules}
    scope = rules["In from Cloud - Guest Join"].scope
    assert len(scope) == 2  # members of the group, or guests with an account already
    assert config.connector_additions({"name": "cloud"}) == {"cloud_guests": {"group": GROUP_ID}}


@pytest.mark.parametrize(
    ("entry", "key", "wanted"),
    [
        ('ou = "Guests"', "guests_to_ad.ou", "not a distinguished name"),
        ('ou = "OU=Guests,DC=other,DC=com"', "guests_to_ad.ou", "export_ou"),
        (f'ou = "{EXPORT_OU}"\ngroup = "Partners"', "guests_to_ad.group", "not a cloud object id"),
        (f'ou = "{EXPORT_OU}"\nou_typo = 1', "guests_to_ad.ou_typo", "unknown key"),
    ],
)
def test_a_wrong_entry_is_an_error_naming_the_key_and_line(
    tmp_path: Path, entry: str, key: str, wanted: str
) -> None:
    ((found_key, line, message),) = _problems(_config(tmp_path, entry))
    assert found_key == key
    lines = (tmp_path / "hybridsync.toml").read_text("utf-8").splitlines()
    assert line is not None
    assert lines[line - 1].split("=")[0].strip() == key.split(".")[-1]
    assert wanted in message


def test_connector_names_are_needed_without_builtin_rules(tmp_path: Path) -> None:
    ((key, line, message),) = _problems(_config(tmp_path, f'ou = "{EXPORT_OU}"', builtin=False))
    assert key == "guests_to_ad.ad"
    assert line == 2  # the [guests_to_ad] table
    assert "ad = and cloud =" in message


def test_named_connectors_must_exist_with_the_right_type(tmp_path: Path) -> None:
    entry = f'ou = "{EXPORT_OU}"\nad = "cloud"\ncloud = "ad"'
    problems = _problems(_config(tmp_path, entry))
    assert [key for key, _, _ in problems] == ["guests_to_ad.ad", "guests_to_ad.cloud"]


def test_a_password_flow_to_ad_stays_refused_with_guests_on(tmp_path: Path) -> None:
    path = _config(tmp_path, f'ou = "{EXPORT_OU}"')
    (tmp_path / "out.toml").write_text(
        '[[rule]]\nname = "Out to AD - Password"\ndirection = "outbound"\nconnector = "ad"\n'
        'source_object_type = "person"\ntarget_object_type = "user"\nprecedence = 20\n\n'
        '[[rule.flow]]\ntarget = "unicodePwd"\ntype = "Constant"\nvalue = "x"\n',
        "utf-8",
    )
    path.write_text('rules = ["out.toml"]\n' + path.read_text("utf-8"), "utf-8")
    with pytest.raises(ConfigError, match="unicodePwd"):
        load_config(path).rule_set()


def test_the_docs_example_loads(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[3] / "docs" / "ad.md"
    blocks = re.findall(r"```toml\n(.*?)```", docs.read_text("utf-8"), flags=re.DOTALL)
    (example,) = [block for block in blocks if "[guests_to_ad]" in block]
    path = tmp_path / "hybridsync.toml"
    path.write_text(example, "utf-8")
    config = load_config(path)
    names = {rule.name for rule in config.rule_set().rules}
    assert "Out to AD - Guest Shadow Account" in names
