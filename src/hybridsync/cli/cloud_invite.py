"""``hybridsync cloud invite``: invite an existing user (a synced partner) to B2B collaboration."""

from __future__ import annotations

from typing import Annotated

import typer

from hybridsync.cli import exit_codes
from hybridsync.cli.cloud import (
    DEFAULT_DIR,
    AsJson,
    DatabaseUrl,
    DataDir,
    TenantRef,
    _print,
    _service,
    cloud_app,
    tenant_of,
)

DEFAULT_PUBLIC_URL = "https://127.0.0.1:8443"


@cloud_app.command("invite")
def invite_command(
    user: Annotated[str, typer.Option("--user", help="The user's UPN (kim@partners.contoso.com).")],
    email: Annotated[
        str, typer.Option("--email", help="Where the user receives codes; must be its mail.")
    ],
    reset_redemption: Annotated[
        bool,
        typer.Option("--reset-redemption", help="Invite again a user who already redeemed."),
    ] = False,
    redirect_url: Annotated[
        str, typer.Option("--redirect-url", help="Where the user lands after redeeming.")
    ] = "https://myapps.microsoft.com",
    public_url: Annotated[
        str | None,
        typer.Option("--public-url", help="The directory's base URL in the redeem link."),
    ] = None,
    tenant: TenantRef = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Invite an existing user to sign in with codes sent to their own address.

    The user keeps its object id, UPN, groups and user type. Once the user redeems the
    link, the on-premises password no longer signs it in to the cloud. Exit status 4 when
    the user does not exist, 3 when the directory refuses the invitation.
    """
    from hybridsync.cloud import b2b
    from hybridsync.cloud.errors import GraphError

    with _service(data_dir, database_url) as service:
        tenant_id = tenant_of(service, tenant).id
        base_url = (public_url or service.settings.public_url or DEFAULT_PUBLIC_URL).rstrip("/")
        try:
            b2b.check_addresses(email, redirect_url)
            found = service.users.get(tenant_id, user)
            request = b2b.InvitationRequest(
                email=email, redirect_url=redirect_url, existing_user_id=found["id"],
                reset_redemption=reset_redemption,
            )  # fmt: skip
            invitation = b2b.invite_existing(service, tenant_id, base_url, request)
        except GraphError as exc:
            missing = exc.status == 404
            label = f"not found: no user {user}" if missing else f"refused: {exc.message}"
            typer.echo(label, err=True)
            raise typer.Exit(exit_codes.NOT_FOUND if missing else exit_codes.CONFIG_ERROR) from None
    _print(
        {
            "id": invitation["id"],
            "user": found["userPrincipalName"],
            "user_id": found["id"],
            "email": invitation["invitedUserEmailAddress"],
            "status": invitation["status"],
            "reset_redemption": invitation["resetRedemption"],
            "redeem_url": invitation["inviteRedeemUrl"],
        },
        as_json,
    )


@cloud_app.command("converted-users")
def converted_users_command(
    owner: Annotated[
        str | None,
        typer.Argument(help="sync or cloud: who owns mail and password hashes after redemption."),
    ] = None,
    tenant: TenantRef = None,
    data_dir: DataDir = DEFAULT_DIR,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Show or set who owns the mail and password hash of a synced user who redeemed.

    sync (default): the sync engine keeps writing them. cloud: the directory refuses the
    engine's changes of mail for such users and drops their password hashes.
    """
    from hybridsync.cloud.signin.converted import OWNERS
    from hybridsync.cloud.signin.service import signin_of

    if owner is not None and owner not in OWNERS:
        typer.echo(f"OWNER: one of {', '.join(OWNERS)}, not {owner!r}", err=True)
        raise typer.Exit(exit_codes.CONFIG_ERROR)
    with _service(data_dir, database_url) as service:
        tenant_id = tenant_of(service, tenant).id
        converted = signin_of(service).converted
        if owner == "cloud":
            converted.set_owner(tenant_id, "cloud")
        elif owner == "sync":
            converted.set_owner(tenant_id, "sync")
        _print({"tenant": tenant_id, "converted_users": converted.owner(tenant_id)}, as_json)
