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
- ``stop()`` / ``start()`` (the data survives; tests of a server that goes away) and
  ``with dc.frozen():`` (a hung server, for timeouts).

The schema is extended with ``extensionAttribute1`` as Exchange does. The session fixture
also loads the Contoso sample directory (``src/hybridsync/samples/contoso.ldif``): OUs
``Staff`` and ``Partners``, every user with the password ``USER_PASSWORD``, and ``Groups``
with the sample's groups (not its critical system group, nor its managers).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import ldap
import ldap.modlist
import psutil
from ldap.ldapobject import LDAPObject
from tests.support.directory import USER_PASSWORD, DirectoryEditor
from tests.support.loopback import claim_loopback_address
from tests.support.tls import issue_server_certificate

from hybridsync.connectors.ad import ADSettings
from hybridsync.connectors.ad.password_check import PasswordCheck

__all__ = ["ADMIN_PASSWORD", "USER_PASSWORD", "SambaDC", "running_samba_dc"]

ADMIN_PASSWORD = "Hs-Adm1n!Passw0rd"


class SambaDC(DirectoryEditor):
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
            # A throw-away DC needs no fsync per write (a killed samba loses nothing; only
            # a machine crash would): adds are about 20 times faster.
            "ldb:nosync": "true",
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

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Inside the block the DC accepts nothing and answers nothing (SIGSTOP), as a
        hung server does: for timeout tests."""
        assert self._process is not None, "the DC is not running"
        root = psutil.Process(self._process.pid)
        tree = [root, *root.children(recursive=True)]
        for member in tree:
            member.suspend()
        try:
            yield
        finally:
            for member in tree:
                with contextlib.suppress(psutil.NoSuchProcess):
                    member.resume()

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
        self._add_external_directory_object_id()

    def _add_external_directory_object_id(self) -> None:
        """``msDS-ExternalDirectoryObjectId`` on ``user``, as the Windows Server 2016 schema
        defines it (Samba provisions the 2012 R2 schema): the anchor of shadow accounts."""
        dn = f"CN=ms-DS-External-Directory-Object-Id,{self.schema_dn}"
        attrs = {
            "objectClass": [b"top", b"attributeSchema"],
            "cn": [b"ms-DS-External-Directory-Object-Id"],
            "attributeID": [b"1.2.840.113556.1.4.2310"],
            "attributeSyntax": [b"2.5.5.12"],
            "oMSyntax": [b"64"],
            "isSingleValued": [b"TRUE"],
            "rangeUpper": [b"256"],
            "searchFlags": [b"9"],
            "lDAPDisplayName": [b"msDS-ExternalDirectoryObjectId"],
            "schemaIDGUID": [base64.b64decode("kL8pva1m4UCIexDfBwQZpg==")],
            "isMemberOfPartialAttributeSet": [b"TRUE"],
        }
        self.admin.add_s(dn, ldap.modlist.addModlist(attrs))
        self._schema_update_now()
        user_class = f"CN=User,{self.schema_dn}"
        change = [(ldap.MOD_ADD, "mayContain", [b"msDS-ExternalDirectoryObjectId"])]
        self.admin.modify_s(user_class, change)
        self._schema_update_now()

    def _schema_update_now(self) -> None:
        self.admin.modify_s("", [(ldap.MOD_ADD, "schemaUpdateNow", [b"1"])])


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


def ad_connector_toml(
    dc: SambaDC, password_env: str, include: Sequence[str], exclude: Sequence[str] = ()
) -> str:
    """The ``[[connectors]]`` table of an AD connector named ``ad`` reading ``dc`` over LDAPS.

    Binds as the domain Administrator with the password in ``password_env``; scoped to the
    ``include`` OUs minus the ``exclude`` ones.
    """
    return f"""
[[connectors]]
type = "ad"
name = "ad"
url = "{dc.ldaps_url}"
bind_user = "{dc.admin_upn}"
password_env = "{password_env}"
ca_file = "{dc.ca_file}"
include_ous = {json.dumps(list(include))}
exclude_ous = {json.dumps(list(exclude))}
"""


def admin_password_check(dc: SambaDC, password_env: str, **settings: Any) -> PasswordCheck:
    """A password check against ``dc`` over LDAPS as the domain Administrator, whose
    password the caller has put in ``password_env``; ``settings`` add ADSettings fields."""
    ad = ADSettings(
        url=dc.ldaps_url,
        bind_user=dc.admin_upn,
        password_env=password_env,
        ca_file=dc.ca_file,
        **settings,
    )
    return PasswordCheck(ad, ad.password())
