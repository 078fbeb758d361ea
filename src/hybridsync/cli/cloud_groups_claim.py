"""``hybridsync cloud app groups-claim``: which groups an application's tokens carry, and how."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hybridsync.cli import exit_codes
from hybridsync.cli.cloud import (
    DEFAULT_DIR,
    AsJson,
    DatabaseUrl,
    DataDir,
    _print,
    _service,
    apps_app,
)
from hybridsync.cloud.errors import GraphError
from hybridsync.cloud.groups_claim_names import GROUP_FORMATS, MEMBERSHIP_CLAIMS

if TYPE_CHECKING:
    from hybridsync.cloud import CloudService

TOKENS = ("idToken", "accessToken")


@apps_app.command("groups-claim")
def groups_claim(
    client_id: Annotated[str, typer.Argument(help="The application's client id.")],
    groups: Annotated[
        str | None,
        typer.Option(
            "--groups",
            help=f"Which groups the tokens carry: {', '.join(MEMBERSHIP_CLAIMS)}.",
            show_default=False,
        ),
    ] = None,
    format_: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            help=f"How groups are named (ID and access tokens): {', '.join(GROUP_FORMATS)}.",
            show_default=False,
        ),
    ] = None,
    assign_group: Annotated[
        list[str] | None,
        typer.Option(
            "--assign-group",
            help="A group id assigned to the application (for --groups ApplicationGroup).",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Show or set the groups claim of an application's ID and access tokens.

    Without options, prints the current setting.
    """
    with _service(data_dir, database_url) as service:
        try:
            tenant_id = _tenant_of(service, client_id)
            changes = _changes(groups, format_)
            if assign_group is not None:
                changes["assignedGroups"] = _checked_groups(service, tenant_id, assign_group)
            if changes:
                service.app_claims.update(tenant_id, client_id, changes)
            settings = service.app_claims.settings(client_id)
        except GraphError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(exit_codes.CONFIG_ERROR) from exc
        _print(_document(client_id, settings), as_json)


def _tenant_of(service: CloudService, client_id: str) -> str:
    found = service.tenancy.application(client_id)
    if found is None:
        raise GraphError(404, "Request_ResourceNotFound", f"no application {client_id!r}")
    return found.tenant_id


def _changes(groups: str | None, formats: list[str] | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if groups is not None:
        if groups not in MEMBERSHIP_CLAIMS:
            raise GraphError(
                400, "Request_BadRequest", f"--groups must be one of {', '.join(MEMBERSHIP_CLAIMS)}"
            )
        changes["groupMembershipClaims"] = groups
    if formats is not None:
        unknown = sorted(set(formats) - set(GROUP_FORMATS))
        if unknown:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"unknown --format {', '.join(unknown)} (known: {', '.join(GROUP_FORMATS)})",
            )
        claim = {"name": "groups", "essential": False, "additionalProperties": formats}
        changes["optionalClaims"] = {token: [claim] for token in TOKENS}
    from hybridsync.cloud.groups_claim import check_changes

    return check_changes(changes)


def _checked_groups(service: CloudService, tenant_id: str, group_ids: list[str]) -> list[str]:
    for group_id in group_ids:
        service.groups.get(tenant_id, group_id)  # 404 names the missing group
    return list(dict.fromkeys(group_ids))


def _document(client_id: str, settings: dict[str, Any]) -> dict[str, Any]:
    from hybridsync.cloud.groups_claim import group_formats

    formats = {token: group_formats(settings, token) for token in TOKENS}
    return {
        "client_id": client_id,
        "groups": settings.get("groupMembershipClaims") or "None",
        "id_token_format": ", ".join(formats["idToken"]) or "object id",
        "access_token_format": ", ".join(formats["accessToken"]) or "object id",
        "assigned_groups": ", ".join(settings.get("assignedGroups") or []) or "none",
    }
