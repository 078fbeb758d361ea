"""The values an application's groups claim settings take: which groups, named how.

Apart from ``groups_claim`` (which imports the database) so that a help screen can list
them cheaply.
"""

from __future__ import annotations

MEMBERSHIP_CLAIMS = ("None", "SecurityGroup", "All", "ApplicationGroup")
SAM_FORMATS = (
    "sam_account_name",
    "dns_domain_and_sam_account_name",
    "netbios_domain_and_sam_account_name",
)
GROUP_FORMATS = (*SAM_FORMATS, "cloud_displayname")
