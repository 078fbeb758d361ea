"""``[guests_to_ad]``: cloud guests get shadow accounts in AD (one entry, built-in rules).

The rules are ``builtin/cloud-guests-to-ad.toml`` with the entry's values filled in. The
entry names the guests' OU (inside the AD connector's ``export_ou``) and, optionally, a
scoping cloud group (its object id): only its members get an account, and leaving it
disables the account. Smart card logon is required by default, so that nobody can use
the random password the account is created with.
"""

from __future__ import annotations

import re
from importlib import resources

from pydantic import BaseModel, ConfigDict, field_validator

from hybridsync.config.group_filter import normal_dn
from hybridsync.config.rules import RuleSource

RULES_FILE = "cloud-guests-to-ad.toml"
UF_NORMAL_ACCOUNT = 0x200
UF_ACCOUNTDISABLE = 0x2
UF_SMARTCARD_REQUIRED = 0x40000
GROUP_MEMBER = "inGuestScopeGroup"
"""The attribute the Graph connector gives a user of the scoping group (``True``)."""
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")

_GUEST = """{ attribute = "userType", operator = "EQUAL", value = "Guest" },
  { attribute = "creationType", operator = "EQUAL", value = "Invitation" },
  { attribute = "onPremisesSyncEnabled", operator = "NOTEQUAL", value = "True" },"""


class GuestsToAdConfig(BaseModel):
    """``[guests_to_ad]``: see docs/ad.md, "Cloud guests to AD"."""

    model_config = ConfigDict(extra="forbid")

    ou: str
    """The OU the shadow accounts are created in (inside the AD connector's export_ou)."""
    group: str | None = None
    """A cloud group's object id: only its members get a shadow account."""
    smart_card_required: bool = True
    ad: str | None = None
    """The AD connector's name (default: ``[builtin_rules] source``)."""
    cloud: str | None = None
    """The cloud connector's name (default: ``[builtin_rules] target``)."""

    @field_validator("ou")
    @classmethod
    def _a_dn(cls, value: str) -> str:
        dn = normal_dn(value)
        if dn is None:
            raise ValueError(
                f"{value!r} is not a distinguished name; write the OU's DN, e.g. \"OU=Guests,"
                'DC=contoso,DC=com"'
            )
        if any(char in dn for char in "\"'\\"):
            raise ValueError(f"{value!r}: an OU whose name needs quoting is not supported")
        return dn

    @field_validator("group")
    @classmethod
    def _an_object_id(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a cloud object id; give the group's id (a GUID, as "
                "`GET /v1.0/groups?$filter=displayName eq '...'` shows it)"
            )
        return value.lower() if value else None

    def account_control(self, *, disabled: bool) -> int:
        value = UF_NORMAL_ACCOUNT | (UF_ACCOUNTDISABLE if disabled else 0)
        return value | (UF_SMARTCARD_REQUIRED if self.smart_card_required else 0)


def guests_rule_source(config: GuestsToAdConfig, ad: str, cloud: str) -> RuleSource:
    """The built-in guest rules for the connectors ``ad`` and ``cloud``."""
    text = resources.files("hybridsync.config").joinpath(f"builtin/{RULES_FILE}").read_text("utf-8")
    values = {
        "ad": ad,
        "cloud": cloud,
        "ou": config.ou,
        "enabled_uac": str(config.account_control(disabled=False)),
        "disabled_uac": str(config.account_control(disabled=True)),
        "scope": _scope(config),
        "disabled": _disabled(config),
    }
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return RuleSource(f"builtin:{RULES_FILE}", text)


def _scope(config: GuestsToAdConfig) -> str:
    if config.group is None:
        return f"\n[[rule.scope]]\nclauses = [\n  {_GUEST}\n]\n"
    member = f'{{ attribute = "{GROUP_MEMBER}", operator = "EQUAL", value = "True" }}'
    # A guest with an account (its onPremisesSamAccountName written back) stays in scope
    # once out of the group: its account is disabled, not deleted.
    provisioned = '{ attribute = "onPremisesSamAccountName", operator = "ISNOTNULL" }'
    return "".join(
        f"\n[[rule.scope]]\nclauses = [\n  {_GUEST}\n  {extra},\n]\n"
        for extra in (member, provisioned)
    )


def _disabled(config: GuestsToAdConfig) -> str:
    """Disabled when soft-deleted, disabled in the cloud, or out of the scoping group."""
    enabled = "IIF(IsPresent([accountEnabled]), IIF(CBool([accountEnabled]), False, True), False)"
    if config.group is not None:
        enabled = f"IIF(IsNullOrEmpty([{GROUP_MEMBER}]), True, {enabled})"
    return f"IIF(IsPresent([deletedDateTime]), True, {enabled})"
