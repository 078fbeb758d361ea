"""The metaverse schema: which attributes an object type has and which are multi-valued.

The person attributes cover what the AD and cloud connectors exchange; attributes not
listed here are still accepted (single-valued), so custom rules can add their own.
"""

from __future__ import annotations

from dataclasses import dataclass

PERSON_SINGLE_VALUED = (
    "accountEnabled", "cloudFiltered", "cloudMastered", "companyName", "department",
    "displayName", "domainFQDN", "domainNetBios", "employeeId", "givenName", "jobTitle",
    "mail", "mailNickname", "onPremisesDistinguishedName", "onPremisesDomainName",
    "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesUserPrincipalName",
    "sourceAnchor", "sourceAnchorBinary", "sourceObjectType", "surname", "usageLocation",
    "userPrincipalName", "userType",
)  # fmt: skip
PERSON_MULTI_VALUED = ("proxyAddresses", "otherMails")


@dataclass(frozen=True, slots=True)
class ObjectTypeSchema:
    name: str
    single_valued: frozenset[str]
    multi_valued: frozenset[str]

    def is_multi_valued(self, attribute: str) -> bool:
        return attribute in self.multi_valued


PERSON = ObjectTypeSchema("person", frozenset(PERSON_SINGLE_VALUED), frozenset(PERSON_MULTI_VALUED))
