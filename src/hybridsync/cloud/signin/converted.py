"""Who owns ``mail`` and the password hash of a synced user who redeemed an invitation.

A tenant setting, ``convertedUsers`` (on ``/v1.0/policies/signInPolicy``, or
``hybridsync cloud converted-users``):

- ``sync`` (default): the sync engine keeps writing them, as for any synced user. The user
  signs in with codes sent to the address they redeemed with, whatever ``mail`` becomes.
- ``cloud``: the directory leaves them to the cloud. A request of the sync engine that
  changes ``mail`` is refused whole (400, naming ``mail``: an object error the engine
  reports for that user until AD or the setting changes; requests that carry the same
  ``mail``, or none, go through), and uploaded password hashes are acknowledged and
  dropped (a password no longer signs the user in anyway).

Everything else (hard match on the anchor, the other attributes, deletion) goes on as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import sqlalchemy as sa

from hybridsync.cloud.db import Database
from hybridsync.cloud.errors import ErrorDetail, bad_request

Owner = Literal["sync", "cloud"]
OWNERS: tuple[Owner, ...] = ("sync", "cloud")
MAIL_IDENTITY_ISSUER = "mail"
"""The issuer of the identity an email one-time passcode user signs in with, as in Entra."""

metadata = sa.MetaData()
converted_settings = sa.Table(
    "signin_converted_users",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("owner", sa.String(8), nullable=False),
)


def redeemed_by_email(user: Mapping[str, Any]) -> bool:
    return any(
        isinstance(i, Mapping) and i.get("issuer") == MAIL_IDENTITY_ISSUER
        for i in user.get("identities") or ()
    )


class ConvertedUsers:
    def __init__(self, db: Database) -> None:
        self.db = db
        metadata.create_all(db.engine)

    def owner(self, tenant_id: str) -> Owner:
        with self.db.read() as conn:
            found = conn.execute(
                sa.select(converted_settings.c.owner).where(
                    converted_settings.c.tenant_id == tenant_id
                )
            ).scalar()
        return "cloud" if found == "cloud" else "sync"

    def set_owner(self, tenant_id: str, owner: Owner) -> None:
        with self.db.write() as conn:
            conn.execute(
                sa.delete(converted_settings).where(converted_settings.c.tenant_id == tenant_id)
            )
            conn.execute(sa.insert(converted_settings).values(tenant_id=tenant_id, owner=owner))

    def refuse_synced_mail_change(
        self, tenant_id: str, existing: Mapping[str, Any], changes: Mapping[str, Any]
    ) -> None:
        """400 when the sync engine changes ``mail`` of a redeemed user the cloud owns."""
        if "mail" not in changes or changes["mail"] == existing.get("mail"):
            return
        if redeemed_by_email(existing) and self.owner(tenant_id) == "cloud":
            message = (
                "The mail of a user who redeemed an invitation is managed in the cloud"
                " (convertedUsers = cloud); it is not changed from on-premises."
            )
            raise bad_request(message, ErrorDetail("InvalidValue", message, "mail"))

    def keeps_synced_hash(self, tenant_id: str, user: Mapping[str, Any]) -> bool:
        return not (redeemed_by_email(user) and self.owner(tenant_id) == "cloud")
