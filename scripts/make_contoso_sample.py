"""Writes the bundled Contoso sample directory (an ldifde-style LDIF export).

Deterministic: the same file every time, so the demo's output is stable. Run with
``uv run python scripts/make_contoso_sample.py`` after changing the people below.
"""

from __future__ import annotations

import base64
import struct
import uuid
from pathlib import Path

DOMAIN_DN = "DC=corp,DC=contoso,DC=com"
NAMESPACE = uuid.UUID("8f2f4d6e-3c1a-4b7e-9a51-0c7d2b1e4f90")
DOMAIN_SID = (21, 3623811015, 3361044348, 30300820)

STAFF = [
    ("Adele", "Vance", "Sales", "Account Executive"),
    ("Alex", "Wilber", "Marketing", "Marketing Assistant"),
    ("Diego", "Siciliani", "HR", "HR Manager"),
    ("Grady", "Archie", "R&D", "Designer"),
    ("Henrietta", "Mueller", "R&D", "Developer"),
    ("Isaiah", "Langer", "Sales", "Sales Representative"),
    ("Johanna", "Lorenz", "Engineering", "Senior Engineer"),
    ("Joni", "Sherman", "Legal", "Paralegal"),
    ("Lee", "Gu", "Manufacturing", "Director"),
    ("Lidia", "Holloway", "Engineering", "Product Manager"),
    ("Lynne", "Robbins", "Retail", "Planner"),
    ("Megan", "Bowen", "Marketing", "Marketing Manager"),
    ("Miriam", "Graham", "Executive Management", "Director"),
    ("Nestor", "Wilke", "Operations", "Director"),
    ("Patti", "Fernandez", "Executive Management", "President"),
    ("Pradeep", "Gupta", "Finance", "Accountant"),
    ("Zoë", "Schäfer", "Finance", "Controller"),
    ("John", "Doe", "Operations", "Analyst"),
]
# (given, surname, company, extensionAttribute1 or None)
PARTNERS = [
    ("William", "Moran", "Fabrikam", "Guest"),
    ("Michael", "Sullivan", "Fabrikam", None),
    ("Debra", "Berger", "Fabrikam", "Guest"),
    ("Enrico", "Cattaneo", "Northwind Traders", None),
    ("Irvin", "Sayers", "Northwind Traders", "Guest"),
    ("Christie", "Cline", "Tailspin Toys", None),
    ("Allan", "Deyoung", "Tailspin Toys", "Guest"),
]
# Employee -> manager, by sAMAccountName (Patti Fernandez, the president, has none).
MANAGERS = {
    "mgraham": "pfernandez",
    "nwilke": "pfernandez",
    "lgu": "pfernandez",
    "avance": "mgraham",
    "ilanger": "mgraham",
    "mbowen": "mgraham",
    "awilber": "mbowen",
    "garchie": "lgu",
    "hmueller": "lgu",
    "jlorenz": "lgu",
    "lholloway": "lgu",
    "dsiciliani": "nwilke",
    "jsherman": "nwilke",
    "lrobbins": "nwilke",
    "pgupta": "nwilke",
    "zschafer": "nwilke",
    "jdoe": "nwilke",
}
GROUPS_OU = f"OU=Groups,{DOMAIN_DN}"
GLOBAL_SECURITY = "-2147483646"  # groupType: a global security group
# (name, sAMAccountName, RID, members: sAMAccountNames of users or names of groups above it)
# Allan Deyoung is a partner outside Project X; the Northwind group is nested in it.
GROUPS = [
    ("Project X - Northwind Traders", "projectx-northwind", 1201, ["ecattaneo", "isayers"]),
    (
        "Partners - Project X",
        "projectx-partners",
        1202,
        ["wmoran", "msullivan", "dberger", "ccline", "Project X - Northwind Traders"],
    ),
    ("Contoso Employees", "contoso-employees", 1203, [*MANAGERS, "pfernandez"]),
]


def _guid(name: str) -> bytes:
    return uuid.uuid5(NAMESPACE, name).bytes_le


def _sid(rid: int) -> bytes:
    sub = (*DOMAIN_SID, rid)
    return (
        struct.pack("<BB", 1, len(sub))
        + (5).to_bytes(6, "big")
        + struct.pack(f"<{len(sub)}I", *sub)
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _value(name: str, value: str) -> str:
    if value.isascii() and not value.startswith((" ", ":", "<")):
        return f"{name}: {value}"
    return f"{name}:: {_b64(value.encode('utf-8'))}"


def _user(
    rid: int, ou: str, sam: str, upn: str | None, given: str, sn: str, extra: dict[str, str]
) -> str:
    cn = f"{given} {sn}"
    dn = f"CN={cn},OU={ou},{DOMAIN_DN}"
    lines = [
        _value("dn", dn),
        "objectClass: top",
        "objectClass: person",
        "objectClass: organizationalPerson",
        "objectClass: user",
        _value("cn", cn),
        _value("givenName", given),
        _value("sn", sn),
        _value("displayName", cn),
        f"sAMAccountName: {sam}",
        f"objectGUID:: {_b64(_guid(sam))}",
        f"objectSid:: {_b64(_sid(rid))}",
        f"userAccountControl: {extra.pop('userAccountControl', '512')}",
    ]
    if upn:
        lines.append(f"userPrincipalName: {upn}")
    lines.extend(_value(key, value) for key, value in extra.items())
    return "\n".join(lines)


def _sam(given: str, sn: str) -> str:
    plain = (given[0] + sn).lower()
    return plain.replace("ä", "a").replace("ö", "o").replace("ü", "u").replace("ë", "e")


def _group(
    name: str, sam: str, rid: int, members: list[str], extra: dict[str, str] | None = None
) -> str:
    lines = [
        f"dn: CN={name},{GROUPS_OU}",
        "objectClass: top",
        "objectClass: group",
        f"cn: {name}",
        f"sAMAccountName: {sam}",
        f"objectGUID:: {_b64(_guid('group-' + sam))}",
        f"objectSid:: {_b64(_sid(rid))}",
        f"groupType: {GLOBAL_SECURITY}",
        f"description: {name}",
    ]
    lines.extend(_value("member", dn) for dn in members)
    lines.extend(f"{key}: {value}" for key, value in (extra or {}).items())
    return "\n".join(lines)


def _ou(name: str) -> str:
    return "\n".join(
        [f"dn: OU={name},{DOMAIN_DN}", "objectClass: organizationalUnit", f"ou: {name}"]
    )


def build() -> str:
    entries = [_ou("Staff"), _ou("Partners")]
    dns: dict[str, str] = {}  # sAMAccountName or group name -> DN
    for given, sn, *_ in STAFF:
        dns[_sam(given, sn)] = f"CN={given} {sn},OU=Staff,{DOMAIN_DN}"
    for given, sn, *_ in PARTNERS:
        dns[_sam(given, sn)] = f"CN={given} {sn},OU=Partners,{DOMAIN_DN}"
    rid = 1100
    for index, (given, sn, department, title) in enumerate(STAFF):
        rid += 1
        sam = _sam(given, sn)
        extra = {
            "mail": f"{sam}@contoso.com",
            "department": department,
            "title": title,
            "company": "Contoso",
            "employeeID": f"E{10000 + index}",
            "c": "US",
        }
        if sam in MANAGERS:
            extra["manager"] = dns[MANAGERS[sam]]
        if index % 3 == 0:
            extra["extensionAttribute1"] = "Member"
        entries.append(_user(rid, "Staff", sam, f"{sam}@contoso.com", given, sn, extra))
    for given, sn, company, user_type in PARTNERS:
        rid += 1
        sam = _sam(given, sn)
        extra = {"mail": f"{sam}@partners.contoso.com", "company": company, "c": "GB"}
        if user_type:
            extra["extensionAttribute1"] = user_type
        upn = f"{sam}@partners.contoso.com"
        entries.append(_user(rid, "Partners", sam, upn, given, sn, extra))
    # Accounts the built-in rules keep out of the cloud.
    entries.append(_user(1002, "Staff", "MSOL_4d2f9a1c", None, "MSOL", "Sync", {}))
    entries.append(
        _user(
            1003,
            "Staff",
            "rtemp",
            "rtemp@contoso.com",
            "Robin",
            "Temp",
            {"userAccountControl": "514"},
        )
    )
    # Groups: written after the users they name, nested ones before their parents.
    entries.append(_ou("Groups"))
    for name, sam, group_rid, members in GROUPS:
        entries.append(_group(name, sam, group_rid, [dns[m] for m in members]))
        dns[name] = f"CN={name},{GROUPS_OU}"
    # A critical system group, as AD has: the built-in rules keep it out of the cloud.
    critical = {"isCriticalSystemObject": "TRUE"}
    entries.append(_group("Domain Admins", "Domain Admins", 512, [dns["pfernandez"]], critical))
    header = (
        "# Contoso sample directory for `hybridsync demo`\n"
        "# generated by scripts/make_contoso_sample.py\n"
    )
    return header + "\n\n".join(entries) + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "src" / "hybridsync" / "samples" / "contoso.ldif"
    target.write_text(build(), encoding="utf-8")
    print(f"wrote {target}")
