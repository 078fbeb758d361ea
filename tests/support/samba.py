"""A real Active Directory domain controller for tests: Samba AD DC on its own loopback address.

Use it through the session fixture ``samba_dc`` (``tests/conftest.py``), or directly::

    with running_samba_dc(tmp_dir) as dc:
        dn = dc.add_user("jdoe", upn="jdoe@contoso.com", ou_dn=dc.ou("Staff"))
        dc.modify(dn, {"title": "Engineer", "mail": None})   # replace / clear
        dc.move(dn, new_parent=dc.ou("Partners"))
        dc.delete(dn)

What a ``SambaDC`` gives a test:

- ``ldaps_url`` (``ldaps://127.0.0.N``), ``ldap_url`` (for StartTLS), ``address``,
  ``hostname`` (``dc1.corp.contoso.com``), ``ca_file`` (the CA of the DC's certificate,
  which names both the hostname and the address, so clients keep full TLS checks on);
- ``base_dn``, ``fqdn``, ``netbios_name``, ``realm``, ``smb_conf``;
- ``admin_upn``, ``admin_dn``, ``admin_password`` (domain Administrator);
- directory changes as the domain Administrator: ``add_ou``, ``add_user``,
  ``add_users_bulk``, ``add_group``, ``add_members``, ``remove_members``, ``modify``,
  ``set_password``, ``move``, ``delete``, ``restore``, ``object_guid``, ``search``,
  ``load_ldif``; ``connect()`` for a bound python-ldap connection of your own;
- ``stop()`` / ``start()`` (the data survives; tests of a server that goes away).

The schema is extended with ``extensionAttribute1`` as Exchange does. The session fixture
also loads the Contoso sample directory (``src/hybridsync/samples/contoso.ldif``): OUs
``Staff`` and ``Partners``, every user with the password ``USER_PASSWORD``.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import ldap
import ldap.modlist
import psutil
from ldap.controls import LDAPControl
from ldap.ldapobject import LDAPObject
from ldif import LDIFRecordList
from tests.support.loopback import claim_loopback_address
from tests.support.tls import issue_server_certificate

__all__ = ["ADMIN_PASSWORD", "USER_PASSWORD", "SambaDC", "running_samba_dc"]

ADMIN_PASSWORD = "Hs-Adm1n!Passw0rd"
USER_PASSWORD = "Hs-User!Passw0rd1"
"""The password of every user the fixture creates unless a test gives another."""

SHOW_DELETED_OID = "1.2.840.113556.1.4.417"
NORMAL_ACCOUNT = 0x200
ACCOUNT_DISABLED = 0x2
Change = str | bytes | int | Sequence[str | bytes] | None


def _encode(value: str | bytes | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _values(value: Change) -> list[bytes]:
    if value is None:
        return []
    if isinstance(value, str | bytes | int):
        return [_encode(value)]
    return [_encode(v) for v in value]


def _unicode_pwd(password: str) -> bytes:
    return f'"{password}"'.encode("utf-16-le")


def _rdn_value(text: str) -> str:
    return ldap.dn.escape_dn_chars(text)


class SambaDC:
    """One Samba AD DC in ``workdir``, serving ``address``."""

    def __init__(
        self,
        workdir: Path,
        address: str,
        *,
        realm: str = "CORP.CONTOSO.COM",
        netbios_name: str = "CORP",
        host: str = "dc1",
    ) -> None:
        self.workdir = workdir
        self.address = address
        self.realm = realm
        self.netbios_name = netbios_name
        self.fqdn = realm.lower()
        self.hostname = f"{host}.{self.fqdn}"
        self._host = host
        self.base_dn = ",".join(f"DC={part}" for part in self.fqdn.split("."))
        self.configuration_dn = f"CN=Configuration,{self.base_dn}"
        self.schema_dn = f"CN=Schema,{self.configuration_dn}"
        self.ldaps_url = f"ldaps://{address}"
        self.ldap_url = f"ldap://{address}"
        self.ca_file = workdir / "tls" / "ca.pem"
        self.smb_conf = workdir / "etc" / "smb.conf"
        self.admin_upn = f"Administrator@{self.fqdn}"
        self.admin_dn = f"CN=Administrator,CN=Users,{self.base_dn}"
        self.admin_password = ADMIN_PASSWORD
        self._process: subprocess.Popen[bytes] | None = None
        self._admin: LDAPObject | None = None

    # --- lifecycle -------------------------------------------------------------------

    def provision(self) -> None:
        """Create the domain (about 3 seconds), our TLS certificate and the config."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "samba-tool", "domain", "provision", f"--targetdir={self.workdir}",
                f"--realm={self.realm}", f"--domain={self.netbios_name}", "--server-role=dc",
                "--dns-backend=NONE", f"--adminpass={self.admin_password}",
                f"--host-name={self._host}", f"--option=interfaces={self.address}",
                "--option=bind interfaces only=yes",
            ],
            check=True, capture_output=True,
        )  # fmt: skip
        certificate = issue_server_certificate(self.workdir / "tls", self.hostname, self.address)
        (self.workdir / "run").mkdir(exist_ok=True)
        extra = {
            "pid directory": self.workdir / "run",
            "log file": self.workdir / "log.%m",
            "dsdb:schema update allowed": "true",
            # winbindd is a separate package, and NetBIOS, WINS, NTP signing and dynamic DNS
            # are not needed for LDAP, Kerberos, SMB and DRSUAPI.
            "server services": "s3fs, rpc, ldap, cldap, kdc, drepl, kcc",
            "tls enabled": "yes",
            "tls keyfile": certificate.key_file,
            "tls certfile": certificate.cert_file,
            "tls cafile": certificate.ca_file,
        }
        conf = self.smb_conf.read_text(encoding="utf-8")
        conf = re.sub(r"^\s*(log file|server services) = .*\n", "", conf, flags=re.MULTILINE)
        lines = "".join(f"\t{key} = {value}\n" for key, value in extra.items())
        self.smb_conf.write_text(conf.replace("[global]\n", f"[global]\n{lines}", 1), "utf-8")

    def start(self, timeout: float = 30.0) -> None:
        """Start ``samba`` in the foreground process model; return once LDAPS answers."""
        if self.running:
            return
        log = (self.workdir / "samba.out").open("ab")
        self._process = subprocess.Popen(
            ["samba", "-s", str(self.smb_conf), "-i", "-M", "single"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while not self._accepts(636):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.workdir / "samba.out").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"samba did not start on {self.address}:\n{tail}")
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """Stop samba and every process it started (smbd runs in sessions of its own)."""
        self._drop_admin()
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(psutil.NoSuchProcess):
            tree = [psutil.Process(process.pid)]
            tree += tree[0].children(recursive=True)
            for member in tree:
                with contextlib.suppress(psutil.NoSuchProcess):
                    member.terminate()
            _, alive = psutil.wait_procs(tree, timeout=timeout)
            for member in alive:
                with contextlib.suppress(psutil.NoSuchProcess):
                    member.kill()
            psutil.wait_procs(alive, timeout=5)
        process.wait(timeout=5)
        deadline = time.monotonic() + timeout
        while self._accepts(636) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _accepts(self, port: int) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            return probe.connect_ex((self.address, port)) == 0

    # --- connections -----------------------------------------------------------------

    def connect(self, who: str | None = None, password: str | None = None) -> LDAPObject:
        """A new LDAPS connection, bound as ``who`` (default: the Administrator)."""
        conn = ldap.initialize(self.ldaps_url)
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, str(self.ca_file))
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        conn.simple_bind_s(who or self.admin_upn, password or self.admin_password)
        return conn

    @property
    def admin(self) -> LDAPObject:
        """A shared Administrator connection (re-opened after ``stop``/``start``)."""
        if self._admin is None:
            self._admin = self.connect()
        return self._admin

    def _drop_admin(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(ldap.LDAPError):
                self._admin.unbind_s()
            self._admin = None

    # --- schema ------------------------------------------------------------------------

    def extend_schema(self) -> None:
        """Add ``extensionAttribute1`` to ``user`` exactly as the Exchange schema does."""
        dn = f"CN=ms-Exch-Extension-Attribute-1,{self.schema_dn}"
        attrs = {
            "objectClass": [b"top", b"attributeSchema"],
            "cn": [b"ms-Exch-Extension-Attribute-1"],
            "attributeID": [b"1.2.840.113556.1.2.423"],
            "attributeSyntax": [b"2.5.5.12"],
            "oMSyntax": [b"64"],
            "isSingleValued": [b"TRUE"],
            "lDAPDisplayName": [b"extensionAttribute1"],
            "rangeLower": [b"1"],
            "rangeUpper": [b"1024"],
            "searchFlags": [b"0"],
        }
        self.admin.add_s(dn, ldap.modlist.addModlist(attrs))
        self._schema_update_now()
        user_class = f"CN=User,{self.schema_dn}"
        self.admin.modify_s(user_class, [(ldap.MOD_ADD, "mayContain", [b"extensionAttribute1"])])
        self._schema_update_now()

    def _schema_update_now(self) -> None:
        self.admin.modify_s("", [(ldap.MOD_ADD, "schemaUpdateNow", [b"1"])])

    # --- directory changes ---------------------------------------------------------

    def ou(self, name: str) -> str:
        """The DN of a top-level OU (it need not exist)."""
        return f"OU={_rdn_value(name)},{self.base_dn}"

    def add_ou(self, name: str, parent_dn: str | None = None) -> str:
        dn = f"OU={_rdn_value(name)},{parent_dn or self.base_dn}"
        attrs = {"objectClass": [b"top", b"organizationalUnit"], "ou": [_encode(name)]}
        self.admin.add_s(dn, ldap.modlist.addModlist(attrs))
        return dn

    def _user_entry(
        self,
        sam: str,
        *,
        upn: str | None,
        password: str | None,
        enabled: bool,
        attributes: Mapping[str, Change] | None,
    ) -> list[tuple[str, list[bytes]]]:
        attrs: dict[str, list[bytes]] = {
            "objectClass": [b"top", b"person", b"organizationalPerson", b"user"],
            "sAMAccountName": [_encode(sam)],
        }
        if upn is not None:
            attrs["userPrincipalName"] = [_encode(upn)]
        if password is not None:
            attrs["unicodePwd"] = [_unicode_pwd(password)]
            control = NORMAL_ACCOUNT | (0 if enabled else ACCOUNT_DISABLED)
            attrs["userAccountControl"] = [_encode(control)]
        for name, value in (attributes or {}).items():
            if _values(value):
                attrs[name] = _values(value)
        return list(attrs.items())

    def add_user(
        self,
        sam: str,
        *,
        ou_dn: str | None = None,
        upn: str | None = None,
        cn: str | None = None,
        password: str | None = USER_PASSWORD,
        enabled: bool = True,
        attributes: Mapping[str, Change] | None = None,
    ) -> str:
        """Create a user and return its DN.

        Without a password the account is created disabled, as AD does.
        ``attributes`` maps LDAP names to a value, a list of values, or ``None`` (skip).
        """
        parent = ou_dn or f"CN=Users,{self.base_dn}"
        dn = f"CN={_rdn_value(cn or sam)},{parent}"
        entry = self._user_entry(
            sam, upn=upn, password=password, enabled=enabled, attributes=attributes
        )
        self.admin.add_s(dn, entry)
        return dn

    def add_users_bulk(
        self,
        count: int,
        *,
        ou_dn: str,
        prefix: str = "user",
        upn_suffix: str = "contoso.com",
        attributes: Mapping[str, Change] | None = None,
        window: int = 64,
    ) -> list[str]:
        """Create ``count`` users fast (pipelined adds, no password: disabled accounts)."""
        conn = self.connect()
        try:
            pending: list[int] = []
            dns: list[str] = []
            for index in range(count):
                sam = f"{prefix}{index:06d}"
                dn = f"CN={sam},{ou_dn}"
                attrs = {
                    "givenName": f"Given{index}",
                    "sn": f"Surname{index}",
                    **(attributes or {}),
                }
                entry = self._user_entry(
                    sam, upn=f"{sam}@{upn_suffix}", password=None, enabled=False, attributes=attrs
                )
                pending.append(conn.add_ext(dn, entry))
                dns.append(dn)
                if len(pending) >= window:
                    conn.result(pending.pop(0))
            for msgid in pending:
                conn.result(msgid)
            return dns
        finally:
            conn.unbind_s()

    def add_group(self, name: str, *, ou_dn: str | None = None, members: Iterable[str] = ()) -> str:
        """Create a global security group with ``members`` (DNs) and return its DN."""
        dn = f"CN={_rdn_value(name)},{ou_dn or f'CN=Users,{self.base_dn}'}"
        attrs: dict[str, list[bytes]] = {
            "objectClass": [b"top", b"group"],
            "sAMAccountName": [_encode(name)],
        }
        if member_values := [_encode(m) for m in members]:
            attrs["member"] = member_values
        self.admin.add_s(dn, list(attrs.items()))
        return dn

    def add_members(self, group_dn: str, members: Iterable[str]) -> None:
        values = [_encode(m) for m in members]
        self.admin.modify_s(group_dn, [(ldap.MOD_ADD, "member", values)])

    def remove_members(self, group_dn: str, members: Iterable[str]) -> None:
        values = [_encode(m) for m in members]
        self.admin.modify_s(group_dn, [(ldap.MOD_DELETE, "member", values)])

    def modify(self, dn: str, changes: Mapping[str, Change]) -> None:
        """Replace each attribute's values; ``None`` or ``[]`` clears the attribute."""
        modlist = []
        for name, value in changes.items():
            values = _values(value)
            modlist.append((ldap.MOD_REPLACE, name, values or None))
        self.admin.modify_s(dn, modlist)

    def set_password(self, dn: str, password: str) -> None:
        """Set a user's password (an administrative reset) and enable the account."""
        self.admin.modify_s(dn, [(ldap.MOD_REPLACE, "unicodePwd", [_unicode_pwd(password)])])
        control = self.search(dn, attributes=["userAccountControl"])[0][1]["userAccountControl"]
        enabled = int(control[0]) & ~ACCOUNT_DISABLED
        self.admin.modify_s(dn, [(ldap.MOD_REPLACE, "userAccountControl", [_encode(enabled)])])

    def move(self, dn: str, *, new_parent: str | None = None, new_rdn: str | None = None) -> str:
        """Rename and/or move an object; return its new DN."""
        rdn, parent = ldap.dn.explode_dn(dn)[0], ",".join(ldap.dn.explode_dn(dn)[1:])
        rdn = new_rdn or rdn
        self.admin.rename_s(dn, rdn, new_parent, delold=1)
        return f"{rdn},{new_parent or parent}"

    def delete(self, dn: str) -> None:
        """Delete an object (it becomes a tombstone in Deleted Objects, as in AD)."""
        self.admin.delete_s(dn)

    def restore(self, guid: bytes, dn: str) -> str:
        """Restore a deleted object (AD "undelete") to ``dn``; return ``dn``."""
        show_deleted = LDAPControl(SHOW_DELETED_OID, True, None)
        # Samba reanimates only through the tombstone's own DN, not a <GUID=...> DN.
        found = self.admin.search_ext_s(
            f"<GUID={uuid.UUID(bytes_le=guid)}>", ldap.SCOPE_BASE, "(isDeleted=TRUE)",
            ["1.1"], serverctrls=[show_deleted],
        )  # fmt: skip
        target = found[0][0]
        modlist = [
            (ldap.MOD_DELETE, "isDeleted", None),
            (ldap.MOD_REPLACE, "distinguishedName", [_encode(dn)]),
        ]
        self.admin.modify_ext_s(target, modlist, serverctrls=[show_deleted])
        return dn

    def object_guid(self, dn: str) -> bytes:
        """The objectGUID of ``dn``, as the 16 bytes AD stores."""
        guid: bytes = self.search(dn, attributes=["objectGUID"])[0][1]["objectGUID"][0]
        return guid

    def search(
        self,
        base: str,
        filterstr: str = "(objectClass=*)",
        *,
        scope: int = ldap.SCOPE_BASE,
        attributes: Sequence[str] | None = None,
    ) -> list[tuple[str, dict[str, list[bytes]]]]:
        found: list[Any] = self.admin.search_s(base, scope, filterstr, attributes)
        return [(dn, attrs) for dn, attrs in found if dn is not None]

    def load_ldif(self, path: Path, *, password: str = USER_PASSWORD) -> list[str]:
        """Load an ldifde-style export (such as the Contoso sample); return the DNs added.

        objectGUID and objectSid are the DC's to assign, so they are dropped; every user
        gets ``password`` and keeps the enabled/disabled bit of its userAccountControl.
        """
        with path.open("rb") as stream:
            records = LDIFRecordList(stream)
            records.parse()
        added = []
        for dn, entry in records.all_records:
            attrs = {k: v for k, v in entry.items() if k not in {"objectGUID", "objectSid"}}
            if b"user" in attrs.get("objectClass", []):
                control = int(attrs.pop("userAccountControl", [b"512"])[0])
                attrs["unicodePwd"] = [_unicode_pwd(password)]
                attrs["userAccountControl"] = [_encode(control)]
            self.admin.add_s(dn, list(attrs.items()))
            added.append(dn)
        return added


@contextlib.contextmanager
def running_samba_dc(workdir: Path, *, seed: Path | None = None) -> Iterator[SambaDC]:
    """Provision, start and extend a DC on a fresh loopback address; tear it all down after.

    ``seed``: an LDIF file to load once the schema is extended.
    """
    if shutil.which("samba") is None and not Path("/usr/sbin/samba").exists():
        raise FileNotFoundError("samba is not installed (Debian package samba)")
    with claim_loopback_address() as address:
        dc = SambaDC(workdir, address)
        try:
            dc.provision()
            dc.start()
            dc.extend_schema()
            if seed is not None:
                dc.load_ldif(seed)
            yield dc
        finally:
            dc.stop()
