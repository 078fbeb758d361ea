"""The commented configuration ``hybridsync init`` writes (see docs/configuration.md)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from string import Template

PLACEHOLDER = "# placeholder:"
"""Ends every line ``init`` filled in with an example value nobody gave it;
``init --check`` refuses a file that still has one."""

OPTIONS = {
    "ad_url": "--ad-url",
    "bind_user": "--bind-user",
    "partner_suffix": "--partner-suffix",
    "cloud_url": "--cloud-url",
    "tenant": "--tenant",
    "client_id": "--client-id",
}
"""The answers whose default is only an example (Contoso's), and the option giving each."""


@dataclass(frozen=True, slots=True)
class InitAnswers:
    """What ``init`` was told; everything else in the file is a documented default."""

    target: str = "cloud"
    ad_url: str = "ldaps://dc1.corp.contoso.com"
    bind_user: str = "svc-hybridsync@corp.contoso.com"
    ad_ca_file: str | None = None
    include_ous: tuple[str, ...] = field(default_factory=tuple)
    partner_suffix: str | None = "@partners.contoso.com"
    user_type_attribute: str | None = None
    cloud_url: str = "https://cloud.contoso.com"
    tenant: str = "contoso.com"
    client_id: str = "00000000-0000-0000-0000-000000000000"
    cloud_ca_file: str | None = None

    examples: frozenset[str] = frozenset(OPTIONS)
    """The answers nobody gave: their value is the example (all of them by default)."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A line of the file that still holds an example value."""

    line: int
    key: str
    value: str
    hint: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "key": self.key, "value": self.value, "hint": self.hint}


_PLACEHOLDER_LINE = re.compile(
    r"^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*" + re.escape(PLACEHOLDER) + r"\s*(.*)$"
)


def placeholders(text: str) -> list[Placeholder]:
    """Every line of a configuration text still marked as a placeholder."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _PLACEHOLDER_LINE.match(line)
        if match is not None:
            found.append(Placeholder(number, match.group(1), match.group(2), match.group(3)))
    return found


HEADER = """\
# hybridsync configuration: on-premises Active Directory -> $target_title.
# Written by `hybridsync init`; every key is described in docs/configuration.md.
# Check both connections with:  hybridsync init --check --config <this file>
# Lines ending in "# placeholder:" hold an example value: replace each (and remove the
# mark); --check refuses the file while one is left.

# The sync engine's state (connector spaces, metaverse, run history): one SQLite file,
# or a PostgreSQL database: store = "postgresql+psycopg://hybridsync@db.example.com/hybridsync"
# (password from HYBRIDSYNC_STORE_PASSWORD; see docs/configuration.md, The store).
store = "hybridsync.db"

# true: import and sync, never export (a standby server, or a dry first week).
staging_mode = false

# Your own rule files (docs/rules.md); they override the built-in rules by precedence.
rules = []

# Entra Connect's out-of-box user rules, between the two connectors below.
[builtin_rules]
source = "ad"
target = "cloud"

$user_type
[safety]
# An export that would delete more than this stops before deleting anything;
# `hybridsync run --allow-deletes` lets one run through after you checked it.
deletion_threshold = 500
# An import that suddenly sees far fewer objects is refused, never turned into deletes.
import_guard_percent = 50
# A run stops beyond this many object errors.
error_limit = 5000

[[connectors]]
type = "ad"
name = "ad"
# ldaps:// (or ldap:// with StartTLS): AD refuses simple binds in clear, so do we.
url = $ad_url
bind_user = $bind_user
# The bind password: from this variable, or password_file = "/etc/hybridsync/ad.secret".
password_env = "HYBRIDSYNC_AD_PASSWORD"
$ad_ca_file
# Only these OUs (empty: the whole domain). exclude_ous = [...] takes subtrees out.
include_ous = $include_ous
# true: write objectGUID into an empty mS-DS-ConsistencyGuid of the users that go to
# the cloud, as Entra Connect does (needs Write on that one attribute; see docs/ad.md).
write_back_consistency_guid = false
"""

USER_TYPE_SUFFIX = """\
# Partners as guests (userType = Guest), employees as members: the whole 7-step
# Entra Connect procedure is this entry. Here: guests are the users whose UPN ends
# with the suffix. Alternative: source = "attribute" (extensionAttribute1 holds
# Member or Guest), or expression = '...' for any rule of your own.
[user_type]
source = "upn-suffix"
suffixes = [$suffix
"""

USER_TYPE_ATTRIBUTE = """\
# Partners as guests (userType = Guest), employees as members: the whole 7-step
# Entra Connect procedure is this entry. Here: the attribute holds Member or Guest
# (any other value is an error on that user). Alternative: source = "upn-suffix"
# with suffixes = ["@partners.contoso.com"].
[user_type]
source = "attribute"
attribute = $attribute
"""

CLOUD_TARGET = """
[[connectors]]
type = "graph"
name = "cloud"
# hybridsync's cloud directory (`hybridsync cloud serve`).
target = "hybridsync"
base_url = $base_url
authority = $authority
# The sync application registered in the directory; its secret from this variable
# (or client_secret_file = "...").
client_id = $client_id
client_secret_env = "HYBRIDSYNC_CLOUD_SECRET"
$ca_file"""

ENTRA_TARGET = """
[[connectors]]
type = "graph"
name = "cloud"
# Microsoft Entra ID, through Microsoft Graph.
target = "entra"
base_url = "https://graph.microsoft.com/v1.0"
authority = $authority
# An app registration with the User.ReadWrite.All application permission; its secret
# from this variable (or a certificate: see docs/graph-connector.md).
client_id = $client_id
client_secret_env = "HYBRIDSYNC_CLOUD_SECRET"
"""


def _q(text: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML for these characters)."""
    return json.dumps(text, ensure_ascii=False)


def _optional(key: str, value: str | None, example: str) -> str:
    if value:
        return f"{key} = {_q(value)}"
    return f"# {key} = {_q(example)}   # the CA to trust; the system's when unset"


def _value(text: str, example: bool, *options: str) -> str:
    """A TOML value, marked as a placeholder when it is only an example."""
    if not example:
        return _q(text)
    return f"{_q(text)}  {PLACEHOLDER} replace it (or give {' and '.join(options)})"


def render(answers: InitAnswers) -> str:
    """The configuration text for ``answers``; example values are marked placeholders."""
    examples = answers.examples
    if answers.user_type_attribute:
        user_type = Template(USER_TYPE_ATTRIBUTE).substitute(
            attribute=_q(answers.user_type_attribute)
        )
    else:
        suffix = _q(answers.partner_suffix or "@partners.contoso.com")
        if "partner_suffix" in examples:
            suffix += f"]  {PLACEHOLDER} replace it (or give --partner-suffix)"
        else:
            suffix += "]"
        user_type = Template(USER_TYPE_SUFFIX).substitute(suffix=suffix)
    entra = answers.target == "entra"
    text = Template(HEADER).substitute(
        target_title="Microsoft Entra ID" if entra else "the hybridsync cloud directory",
        user_type=user_type,
        ad_url=_value(answers.ad_url, "ad_url" in examples, OPTIONS["ad_url"]),
        bind_user=_value(answers.bind_user, "bind_user" in examples, OPTIONS["bind_user"]),
        ad_ca_file=_optional("ca_file", answers.ad_ca_file, "/etc/hybridsync/ad-ca.pem"),
        include_ous="[" + ", ".join(_q(ou) for ou in answers.include_ous) + "]",
    )
    if entra:
        authority = f"https://login.microsoftonline.com/{answers.tenant}"
        return text + Template(ENTRA_TARGET).substitute(
            authority=_value(authority, "tenant" in examples, "--tenant"),
            client_id=_value(answers.client_id, "client_id" in examples, "--client-id"),
        )
    base = answers.cloud_url.rstrip("/")
    example_url = "cloud_url" in examples
    return text + Template(CLOUD_TARGET).substitute(
        base_url=_value(f"{base}/v1.0", example_url, "--cloud-url"),
        authority=_value(
            f"{base}/{answers.tenant}",
            example_url or "tenant" in examples,
            "--cloud-url",
            "--tenant",
        ),
        client_id=_value(answers.client_id, "client_id" in examples, "--client-id"),
        ca_file=_optional("ca_file", answers.cloud_ca_file, "/etc/hybridsync/cloud-ca.pem") + "\n",
    )
