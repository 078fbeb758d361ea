"""The whole migration: read, convert, check it loads, write all or nothing."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from hybridsync.config.migrate.convert import (
    Migration,
    connector_names,
    editor_connector_names,
    migrate_rules,
)
from hybridsync.config.migrate.export import read_server_export
from hybridsync.config.migrate.powershell import read_editor_export
from hybridsync.config.migrate.report import MigrationReport
from hybridsync.config.migrate.settings import connector_tables
from hybridsync.config.migrate.tomlout import document_toml
from hybridsync.config.rules import RuleSource, load_rules
from hybridsync.errors import ConfigError, os_error_reason


def migrate_export(path: Path) -> Migration:
    """Convert an export: a server configuration folder, or an editor export script.

    Every rule file is loaded with the rule loader before anything is written.
    """
    if path.is_file():
        return _migrate_editor_export(path)
    export = read_server_export(path)
    report = MigrationReport(str(path))
    rule_files = migrate_rules(export.rules, connector_names(export), report)
    load_rules([RuleSource(name, text) for name, text in rule_files.items()])
    names = connector_names(export).by_id
    settings = {
        "staging_mode": True,
        "rules": sorted(rule_files),
        "store": {"path": "hybridsync.db"},
        "connectors": connector_tables(export, names, report),
    }
    header = (
        "# Migrated from an Entra Connect server configuration export.\n"
        "# staging_mode: nothing is exported; once `hybridsync migrate verify` exits 0,\n"
        "# set it to false (see docs/migrate.md).\n"
    )
    files = dict(rule_files)
    files["hybridsync.toml"] = header + document_toml(settings)
    return Migration(files, report)


def _migrate_editor_export(path: Path) -> Migration:
    """Rules only: an editor export has no connector settings to build a hybridsync.toml."""
    rules = read_editor_export(path)
    report = MigrationReport(str(path))
    rule_files = migrate_rules(rules, editor_connector_names(rules, report), report)
    load_rules([RuleSource(name, text) for name, text in rule_files.items()])
    report.notes.append(
        "no hybridsync.toml: an editor export holds rules only; list the rule files under "
        "rules = [...] of your hybridsync.toml"
    )
    return Migration(rule_files, report)


def write_migration(migration: Migration, out: Path, *, force: bool) -> None:
    """Write every file, or none: a sibling temporary folder is renamed into place."""
    _check_replaceable(out, force=force)
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=parent))
    except OSError as exc:
        raise ConfigError(f"cannot create: {os_error_reason(exc)}", source=str(out)) from exc
    try:
        for relative, text in migration.files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        (staging / REPORT_FILE).write_text(_json(migration.report), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ConfigError(f"cannot write: {os_error_reason(exc)}", source=str(out)) from exc


REPORT_FILE = "migration-report.json"


def _check_replaceable(out: Path, *, force: bool) -> None:
    """--force replaces an earlier migration's folder (or an empty one), nothing else.

    A mistyped --out (a home folder, a repository) is never deleted.
    """
    if not out.exists() and not out.is_symlink():
        return
    if not force:
        raise ConfigError("already exists; give --force to replace it", source=str(out))
    if out.is_symlink() or not out.is_dir():
        raise ConfigError("exists and is not a folder; not replaced", source=str(out))
    if any(out.iterdir()) and not (out / REPORT_FILE).is_file():
        raise ConfigError(
            f"is not the output of an earlier migration (no {REPORT_FILE}); not replaced "
            "even with --force",
            source=str(out),
        )


def _json(report: MigrationReport) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"
