"""``[console]``: the operations console of ``hybridsync serve`` and who may use it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ConsoleConfig"]


class ConsoleConfig(BaseModel):
    """Sign-in (OpenID Connect, authorization code with PKCE) and the two access levels.

    Example::

        [console]
        issuer = "https://login.microsoftonline.com/<tenant id>/v2.0"
        client_id = "<the console's application (client) id>"
        redirect_uri = "https://sync.corp.contoso.com:8765/console/signed-in"
        reader_roles = ["88d8e3e3-8f55-4a1e-953a-9b9898b8876b"]    # wids: Directory Readers
        operator_roles = ["8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"]  # Hybrid Identity Admin
        operator_groups = ["<object id of the sync operators group>"]
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    issuer: str = Field(min_length=1)
    """The identity provider's issuer; its discovery document is ``{issuer}/.well-known/
    openid-configuration``."""
    client_id: str = Field(min_length=1)
    client_secret_file: Path | None = None
    """A confidential client's secret; none for a public client (PKCE alone)."""
    redirect_uri: str = Field(min_length=1)
    ca_file: Path | None = None
    """CA certificates the issuer's HTTPS is checked with (default: the system's)."""
    reader_roles: list[str] = Field(default_factory=list)
    operator_roles: list[str] = Field(default_factory=list)
    reader_groups: list[str] = Field(default_factory=list)
    operator_groups: list[str] = Field(default_factory=list)
    exports_wait_for_approval: bool = False
    """The service imports and syncs, and exports only the plans an operator applies."""
    session_minutes: float = Field(default=480.0, gt=0)

    @model_validator(mode="after")
    def _someone_may_enter(self) -> ConsoleConfig:
        if not (
            self.reader_roles or self.operator_roles or self.reader_groups or self.operator_groups
        ):
            raise ValueError(
                "name at least one of reader_roles, operator_roles, reader_groups, "
                "operator_groups: without them nobody may use the console"
            )
        if not self.issuer.startswith("https://"):
            raise ValueError(f"issuer {self.issuer!r} must be an https:// URL")
        if not self.redirect_uri.endswith("/console/signed-in"):
            raise ValueError(
                f"redirect_uri {self.redirect_uri!r} must end with /console/signed-in "
                "(the console's own address)"
            )
        return self
