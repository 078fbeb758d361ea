from __future__ import annotations

from pathlib import Path

import pytest

from hybridsync.config import ConfigProblems, load_config
from hybridsync.errors import ConfigError
from hybridsync.wiring import CONNECTOR_TYPES, build_from_file, load_config_file

CONFIG = """
store = "state.db"
[builtin_rules]
source = "ad"
target = "cloud"
[user_type]
source = "attribute"
[safety]
deletion_threshold = 10
[[connectors]]
type = "ldif"
name = "ad"
path = "ad.ldif"
[[connectors]]
type = "recording"
name = "cloud"
"""


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "hybridsync.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "ad.ldif").write_text("version: 1\n", encoding="utf-8")
    built = build_from_file(tmp_path / "hybridsync.toml")
    try:
        assert (tmp_path / "state.db").exists()
        assert built.engine.context.settings.deletion_threshold == 10
        assert built.engine.context.rules.by_name("In from AD - User UserType") is not None
    finally:
        built.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            CONFIG.replace('type = "recording"', 'type = "carrier-pigeon"'),
            "unknown connector type 'carrier-pigeon'",
        ),
        (
            CONFIG.replace('source = "attribute"', 'source = "zodiac"'),
            "user_type.source: must be one of 'attribute' or 'upn-suffix' \\(got 'zodiac'\\)",
        ),
        (CONFIG.replace('source = "attribute"', 'source = "upn-suffix"'), "needs suffixes"),
        (
            CONFIG.replace("deletion_threshold = 10", "deletion_threshold = -1"),
            "safety.deletion_threshold",
        ),
        (
            CONFIG.replace('path = "ad.ldif"', 'path = "ad.ldif"\nport = 1'),
            r"connectors\[0\].port: unknown key `port`",
        ),
    ],
)
def test_configuration_errors_are_clear(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "hybridsync.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        build_from_file(tmp_path / "hybridsync.toml").close()


def test_the_registry_maps_type_names_to_model_and_factory() -> None:
    assert {"ldif", "recording"} <= set(CONNECTOR_TYPES)
    model = CONNECTOR_TYPES["ldif"].model()
    assert model.model_validate({"name": "ad", "path": "x.ldif"}).model_dump()["type"] == "ldif"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


TWO_TYPOS = """\
[builtin_rules]
source = "ad"
target = "cloud"
[user_type]
source = "upn-suffix"
  suffixs = ["@partners.contoso.com"]
[[connectors]]
type = "ldif"
name = "ad"
pth = "ad.ldif"
[[connectors]]
type = "recordin"
name = "cloud"
"""


def test_every_problem_is_reported_at_once_with_line_column_and_a_suggestion(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hybridsync.toml"
    path.write_text(TWO_TYPOS, encoding="utf-8")
    with pytest.raises(ConfigProblems) as raised:
        load_config_file(path)
    found = [(p.line, p.column, p.key, p.message) for p in raised.value.problems]
    assert found == [
        (6, 3, "user_type.suffixs", "unknown key `suffixs`: did you mean `suffixes`?"),
        (7, 1, "connectors[0].path", "is required but missing"),
        (10, 1, "connectors[0].pth", "unknown key `pth`: did you mean `path`?"),
        (
            12,
            1,
            "connectors[1].type",
            "unknown connector type 'recordin': did you mean `recording`? "
            "(known: ad, embedded-cloud, graph, ldif, recording)",
        ),
    ]
    text = str(raised.value)
    assert f"{path}:6:3: user_type.suffixs" in text
    assert "Extra inputs" not in text
    assert "Field required" not in text


def test_a_secret_value_is_never_repeated_in_a_message(tmp_path: Path) -> None:
    path = tmp_path / "hybridsync.toml"
    path.write_text(
        CONFIG + '[[connectors]]\ntype = "graph"\nname = "g"\nauthority = "https://a"\n'
        'client_id = "x"\nclient_secret = 12345678\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigProblems) as raised:
        load_config_file(path)
    assert "12345678" not in str(raised.value)
    assert "connectors[2].client_secret" in str(raised.value)
