"""Writing users and groups to AD: add, modify, member changes, rename/move, delete.

Each change becomes a few synchronous LDAP requests on the connector's one connection.
AD's answers are classified as every export connector's are (``core/ports.py``):

- the DN already taken by an add: the object is joined (its objectGUID returned);
- a value AD refuses (constraint, syntax, a unique value taken, unwilling): rejected,
  naming the attribute from AD's diagnostic (``... Att 90290 (userPrincipalName)``);
- insufficient rights: rejected, naming the right the account lacks;
- a connection lost while a request was out: ``UNKNOWN``, read back before any retry;
- no connection at the start of a batch: a transient error, the whole run retries later.

Passwords: a created user gets a generated password (``unicodePwd``, only over LDAPS or
StartTLS) that is never returned, stored or logged. A rule cannot flow one: its value
would be kept in the connector space with the rest of the export. Such a rule is refused
when the rules load (``Config.rule_set``); the check here is a backstop.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import string
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import ldap
import ldap.dn
import ldap.filter
import structlog

from hybridsync.connectors.ad.connection import Connection, Modification, RawEntry
from hybridsync.connectors.ad.convert import ACCOUNT_DISABLED, guid_dn, guid_text, plain_dn
from hybridsync.connectors.ad.errors import (
    AlreadyExistsError,
    InsufficientRightsError,
    NoSuchObjectError,
    ServerUnreachableError,
    WriteRefusedError,
)
from hybridsync.connectors.ad.reader import Reader
from hybridsync.connectors.ad.scope import is_under, normalize_dn, object_type_of
from hybridsync.connectors.ad.settings import ADSettings
from hybridsync.core.ports import (
    ExportChange,
    ExportKind,
    ExportOutcome,
    ExportResult,
    ImportedObject,
    ImportKind,
)
from hybridsync.core.values import AttributeValue, Reference, Values
from hybridsync.errors import ConnectorError, TransientConnectorError

__all__ = [
    "ACCOUNT_DISABLED",
    "UF_ACCOUNTDISABLE",
    "UF_NORMAL_ACCOUNT",
    "UF_SMARTCARD_REQUIRED",
    "Exporter",
    "attribute_named",
    "generated_password",
]

log = structlog.get_logger(__name__)

UF_ACCOUNTDISABLE = 0x2
UF_NORMAL_ACCOUNT = 0x200
UF_SMARTCARD_REQUIRED = 0x40000
USER_CLASSES = (b"top", b"person", b"organizationalPerson", b"user")
GROUP_CLASSES = (b"top", b"group")
NEVER_WRITTEN = frozenset(
    {"dn", "distinguishedname", "objectguid", "objectsid", "objectclass", "memberof",
     "cn", "name", "whenchanged", "whencreated", "usnchanged", "usncreated",
     "samaccounttype", "instancetype", "iscriticalsystemobject", "primarygroupid"}
)  # fmt: skip
"""Set by AD itself, or by the DN (``cn``, ``name``: a new DN renames the object)."""
PASSWORD_ATTRIBUTES = frozenset({"unicodepwd", "userpassword", "password"})
PASSWORD_LENGTH = 24
_ATT = re.compile(r"\bAtt(?:ribute)?\s+(?:[0-9a-fA-Fx]+\s+)?\(?'?(?P<name>[A-Za-z][\w-]*)'?\)?")
DN_BATCH = 100


def generated_password() -> str:
    """A random password meeting AD's complexity rules (four character classes)."""
    classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "!#%+-.:=?@^_~")
    alphabet = "".join(classes)
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH))
        if all(any(c in chars for c in password) for chars in classes):
            return password


def _unicode_pwd(password: str) -> bytes:
    return f'"{password}"'.encode("utf-16-le")


def encode(value: AttributeValue) -> bytes:
    """A value as AD takes it; a reference to an anchor as ``<GUID=...>`` (AD resolves it)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):  # before int: a bool is an int
        return b"TRUE" if value else b"FALSE"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, Reference):
        guid = guid_text(value.dn)
        return (f"<GUID={guid}>" if guid else value.dn).encode()
    return value.encode("utf-8")


def attribute_named(info: str, candidates: Sequence[str]) -> str | None:
    """The attribute AD's diagnostic names: ``... problem 1005 ..., Att 90290 (name)``
    on Windows; Samba names it in words (``Account name (sAMAccountName) ...``)."""
    match = _ATT.search(info)
    if match and match["name"].lower() not in {"err", "rerr"}:
        return match["name"]
    lowered = info.lower()
    found = [name for name in candidates if re.search(rf"\b{re.escape(name.lower())}\b", lowered)]
    return max(found, key=len) if found else None


def _split_dn(dn: str) -> tuple[str, str]:
    """``(first RDN, parent DN)``."""
    parts = ldap.dn.explode_dn(dn)
    return parts[0], ",".join(parts[1:])


class _Refused(Exception):
    """This change is refused; the message names the object and the attribute or right."""


@dataclass
class Exporter:
    """Applies export changes to AD, one at a time, on the connector's connection."""

    conn: Connection
    settings: ADSettings
    reader: Reader
    password: Callable[[], str] = generated_password
    _lost: bool = False

    @property
    def export_ou(self) -> str:
        assert self.settings.export_ou is not None
        return self.settings.export_ou

    # --- the batch ---------------------------------------------------------------------

    def export(self, changes: Sequence[ExportChange]) -> Iterator[ExportResult]:
        if self._lost:
            self._reconnect_or_stop()
        for index, change in enumerate(changes):
            result = self.apply(change)
            yield result
            if self._lost:
                # The next change would wait for a connection that is gone. Nothing more
                # is sent: the engine reads these back and sends them in a later run.
                for rest in changes[index + 1 :]:
                    yield ExportResult(rest.change_id, ExportOutcome.UNKNOWN, rest.anchor,
                                       f"{rest.dn}: not sent, the connection to "
                                       f"{self.conn.server} was lost")  # fmt: skip
                return

    def _reconnect_or_stop(self) -> None:
        try:
            self.conn.open()
        except ServerUnreachableError as exc:
            raise TransientConnectorError(
                f"{self.conn.server} is unreachable: exports are retried next run ({exc})"
            ) from exc
        self._lost = False

    def apply(self, change: ExportChange) -> ExportResult:
        try:
            _refuse_passwords(change)
            _check_account_control(change)
            if change.kind is ExportKind.ADD:
                return self._add(change)
            if change.kind is ExportKind.DELETE:
                return self._delete(change)
            return self._update(change)
        except _Refused as refused:
            log.info("ad.export_refused", dn=change.dn, reason=str(refused))
            return ExportResult(change.change_id, ExportOutcome.REJECTED, change.anchor,
                                str(refused))  # fmt: skip
        except ServerUnreachableError as exc:
            self.conn.forget()
            self._lost = True
            log.warning("ad.export_outcome_unknown", dn=change.dn, error=str(exc))
            return ExportResult(change.change_id, ExportOutcome.UNKNOWN, change.anchor,
                                f"{change.dn}: no answer ({exc}); read back before any "
                                "retry")  # fmt: skip

    # --- add ---------------------------------------------------------------------------

    def _inside_export_ou(self, dn: str, what: str) -> None:
        parsed = normalize_dn(dn)
        if parsed is None:
            raise _Refused(f"{dn}: not a distinguished name")
        if not is_under(parsed, self.export_ou) or normalize_dn(self.export_ou) == parsed:
            raise _Refused(f"{dn}: {what} outside the export OU {self.export_ou} is refused "
                           "(export_ou)")  # fmt: skip

    def _add(self, change: ExportChange) -> ExportResult:
        dn = change.dn
        self._inside_export_ou(dn, "an add")
        entry = self._add_entry(change)
        parent = _split_dn(dn)[1]
        right = f"create child ({change.object_type}) on {parent}"
        try:
            self.conn.add(dn, entry)
        except AlreadyExistsError as exc:
            found = self._joinable(change, dn)
            if found is None:  # not the DN: a value unique in the domain is taken
                raise self._refusal(change, dn, exc, [name for name, _ in entry]) from exc
            log.info("ad.export_joined", dn=dn, anchor=found.anchor)
            return ExportResult(change.change_id, ExportOutcome.APPLIED, found.anchor)
        except (WriteRefusedError, InsufficientRightsError, NoSuchObjectError) as exc:
            raise self._refusal(change, dn, exc, [name for name, _ in entry], right) from exc
        created = self._read(dn)
        if created is None:
            raise _Refused(f"{dn}: added, but it cannot be read back (no read right?)")
        return ExportResult(change.change_id, ExportOutcome.APPLIED, created.anchor,
                            written={**created.attributes})  # fmt: skip

    def _joinable(self, change: ExportChange, dn: str) -> ImportedObject | None:
        """The object holding the DN an add found taken, joined only when it is of the
        change's type: a computer or a contact is not a user, and adopting it would have
        the rules write a user's values over it. ``None``: nothing holds the DN."""
        entry = self.conn.read_entry(dn, [*self.reader.attributes, "objectClass"])
        if entry is None:
            return None
        classes = entry[1].get("objectClass", [])
        if object_type_of(classes) != change.object_type:
            held = classes[-1].decode() if classes else "object of unknown class"
            raise _Refused(f"{dn}: DN taken by a {held}, not a {change.object_type}: the add "
                           "is refused (rename or remove that object)")  # fmt: skip
        return self.reader.record(entry, change.object_type, ImportKind.PRESENT)

    def _add_entry(self, change: ExportChange) -> list[tuple[str, list[bytes]]]:
        is_user = change.object_type == "user"
        entry: list[tuple[str, list[bytes]]] = [
            ("objectClass", list(USER_CLASSES if is_user else GROUP_CLASSES))
        ]
        account_control: int | None = None
        disabled: bool | None = None
        for name, values in change.changes:
            lowered = name.lower()
            if lowered == ACCOUNT_DISABLED.lower():
                disabled = bool(values and values[0])
            elif lowered == "useraccountcontrol":
                account_control = _integer(change, name, values)
            elif lowered not in NEVER_WRITTEN and values:
                entry.append((name, [encode(value) for value in values]))
        if is_user:
            control = self._new_uac(account_control, disabled)
            entry.append(("userAccountControl", [str(control).encode()]))
            entry.append(("unicodePwd", [_unicode_pwd(self.password())]))
        return entry

    def _new_uac(self, sent: int | None, disabled: bool | None) -> int:
        value = UF_NORMAL_ACCOUNT if sent is None else sent
        if disabled is not None:
            value = value | UF_ACCOUNTDISABLE if disabled else value & ~UF_ACCOUNTDISABLE
        if self.settings.smart_card_required:
            value |= UF_SMARTCARD_REQUIRED
        return value

    # --- update ------------------------------------------------------------------------

    def _update(self, change: ExportChange) -> ExportResult:
        """Attribute and member changes of an object AD holds, found by its anchor.

        Unlike adds, moves and deletes, an update is not limited to ``export_ou``: it is
        about an object a rule already manages (joined by an import, wherever the
        connector's OU scope put it), and write-back flows (a cloud value written onto a
        user synchronized from any OU) are exactly that. It creates nothing, moves
        nothing out of reach and removes nothing; where it may write is decided by the
        rules and the account's write rights. A new DN is still checked (``_moved``)."""
        if change.anchor is None:
            raise _Refused(f"{change.dn}: an update without an anchor")
        current = self._current(change)
        dn = self._moved(change, current[0])
        modifications, members = self._modifications(change, current)
        names = [name for _, name, _ in modifications]
        if modifications:
            right = f"write property {', '.join(sorted(set(names)))} on {dn}"
            self._write(change, dn, names, right, lambda: self.conn.modify(dn, modifications))
        problems: list[str] = []
        for modification in members:
            name = modification[1]
            right = f"write property {name} on {dn}"
            self._write(change, dn, [name], right,
                        lambda m=modification: problems.extend(self._modify_members(dn, m)))  # type: ignore[misc]  # fmt: skip
        if problems:  # every other member change is in place; only these are errors
            raise _Refused(f"{dn}: {'; '.join(problems)}")
        return ExportResult(change.change_id, ExportOutcome.APPLIED, change.anchor)

    def _current(self, change: ExportChange) -> RawEntry:
        assert change.anchor is not None
        if guid_text(change.anchor) is None:
            raise _Refused(f"{change.dn}: the anchor {change.anchor!r} is not an objectGUID")
        entry = self.conn.read_entry(guid_dn(change.anchor), ["userAccountControl"])
        if entry is None:
            raise _Refused(f"{change.dn}: the object (objectGUID {change.anchor}) no longer "
                           "exists in AD; the next import removes it")  # fmt: skip
        return entry

    def _moved(self, change: ExportChange, current_dn: str) -> str:
        """Rename or move the object when the rule's DN differs; the DN it has now."""
        wanted = change.dn
        if normalize_dn(wanted) == normalize_dn(current_dn):
            return current_dn
        self._inside_export_ou(wanted, "a move")
        new_rdn, new_parent = _split_dn(wanted)
        old_parent = _split_dn(current_dn)[1]
        moving = normalize_dn(new_parent) != normalize_dn(old_parent)
        right = (f"create child on {new_parent} and delete child on {old_parent}" if moving
                 else f"write property name on {current_dn}")  # fmt: skip
        self._write(change, current_dn, ["name"], right,
                    lambda: self.conn.rename(current_dn, new_rdn,
                                             new_parent if moving else None))  # fmt: skip
        return wanted

    def _modifications(
        self, change: ExportChange, current: RawEntry
    ) -> tuple[list[Modification], list[Modification]]:
        """The replaces, and the member additions and removals (chunked)."""
        replaces: list[Modification] = []
        members: list[Modification] = []
        sent: int | None = None
        disabled: bool | None = None
        control_named = False
        for name, values in change.changes:
            lowered = name.lower()
            if lowered in NEVER_WRITTEN:
                continue
            if lowered == ACCOUNT_DISABLED.lower():
                disabled, control_named = bool(values and values[0]), True
            elif lowered == "useraccountcontrol":
                sent, control_named = _integer(change, name, values), True
            elif name in change.previous and _references(values, change.previous[name]):
                members.extend(self._member_changes(name, values, change.previous[name]))
            else:
                encoded = [encode(value) for value in values] or None
                replaces.append((ldap.MOD_REPLACE, name, encoded))
        if control_named:
            replaces.append(self._account_control(current, sent, disabled))
        return replaces, members

    def _modify_members(self, dn: str, modification: Modification) -> list[str]:
        """One chunk of additions or removals; what AD refused, one message a value.

        A refused chunk is sent again value by value: a member already there (or already
        gone) fails the whole request where the permissive-modify control is not honoured
        (Samba), and is skipped (a retry after a lost answer sends values the server took
        already); a member AD refuses (a DN that names no object) is reported on its own,
        so that one bad member does not hold back the others."""
        try:
            self.conn.modify(dn, [modification], permissive=True)
            return []
        except (WriteRefusedError, NoSuchObjectError):
            pass
        operation, name, values = modification
        problems: list[str] = []
        for value in values or []:
            try:
                self.conn.modify(dn, [(operation, name, [value])], permissive=True)
            except WriteRefusedError as single:
                if not _settled_already(single):
                    problems.append(_member_problem(operation, name, value, single))
            except NoSuchObjectError as single:
                problems.append(_member_problem(operation, name, value, single))
        return problems

    def _account_control(
        self, current: RawEntry, sent: int | None, disabled: bool | None
    ) -> Modification:
        """One replace of userAccountControl, whether a rule flows it, ``accountDisabled``,
        or both (two replaces of one attribute make AD refuse the whole modify). Without a
        value from a rule the object's current one is kept, but for the disabled bit."""
        if sent is None:
            held = current[1].get("userAccountControl") or [str(UF_NORMAL_ACCOUNT).encode()]
            sent = int(held[0])
        value = self._new_uac(sent, disabled)
        return (ldap.MOD_REPLACE, "userAccountControl", [str(value).encode()])

    def _member_changes(self, name: str, values: Values, previous: Values) -> list[Modification]:
        """Only what changed, in requests of at most ``member_chunk`` values."""
        wanted, held = self._keyed(values), self._keyed(previous)
        if any(key.startswith("dn:") for key in (*wanted, *held)) and any(
            key.startswith("guid:") for key in (*wanted, *held)
        ):
            wanted, held = self._by_guid(wanted), self._by_guid(held)
        adds = [wanted[key] for key in wanted if key not in held]
        removes = [held[key] for key in held if key not in wanted]
        size = self.settings.member_chunk
        chunks: list[Modification] = []
        for operation, chosen in ((ldap.MOD_ADD, adds), (ldap.MOD_DELETE, removes)):
            for start in range(0, len(chosen), size):
                chunks.append((operation, name, chosen[start : start + size]))
        return chunks

    @staticmethod
    def _keyed(values: Values) -> dict[str, bytes]:
        keyed: dict[str, bytes] = {}
        for value in values:
            text = str(value)
            guid = guid_text(text)
            if guid is not None:
                keyed[f"guid:{guid}"] = encode(value)
            else:
                normal = normalize_dn(text)
                keyed[f"dn:{normal if normal is not None else text.lower()}"] = encode(value)
        return keyed

    def _by_guid(self, keyed: dict[str, bytes]) -> dict[str, bytes]:
        """DN-form values keyed by their objectGUID, so that the two forms compare (a
        DN that resolves to nothing keeps its DN key)."""
        dns = [value.decode() for key, value in keyed.items() if key.startswith("dn:")]
        guids: dict[str, str] = {}
        for start in range(0, len(dns), DN_BATCH):
            part = dns[start : start + DN_BATCH]
            terms = "".join(f"(distinguishedName={ldap.filter.escape_filter_chars(d)})"
                            for d in part)  # fmt: skip
            for page in self.conn.paged_search(self.reader.scope.domain_dn, f"(|{terms})",
                                               ["objectGUID"]):  # fmt: skip
                for dn, raw in page:
                    guid = raw.get("objectGUID", [b""])[0]
                    if len(guid) == 16:
                        guids[str(normalize_dn(dn))] = str(uuid.UUID(bytes_le=guid))
        rekeyed: dict[str, bytes] = {}
        for key, value in keyed.items():
            found = guids.get(key[3:]) if key.startswith("dn:") else None
            rekeyed[f"guid:{found}" if found else key] = value
        return rekeyed

    # --- delete ------------------------------------------------------------------------

    def _delete(self, change: ExportChange) -> ExportResult:
        if change.anchor is None or guid_text(change.anchor) is None:
            raise _Refused(f"{change.dn}: a delete needs an objectGUID anchor, not "
                           f"{change.anchor!r}")  # fmt: skip
        self._inside_export_ou(change.dn, "a delete")
        # The DN the engine holds is the one of the last import: the object may have been
        # moved since. The delete goes by GUID, so the OU check is on where it is *now*.
        entry = self.conn.read_entry(guid_dn(change.anchor), ["objectClass"])
        if entry is None:  # deleted already (an earlier try whose answer was lost, by hand)
            return ExportResult(change.change_id, ExportOutcome.APPLIED, change.anchor)
        current = plain_dn(entry[0])
        self._inside_export_ou(current, "a delete (the object is there now)")
        right = f"delete child on {_split_dn(current)[1]}"
        with contextlib.suppress(_NotThere):  # gone between the read and the delete
            self._write(change, current, [], right,
                        lambda: self.conn.delete(guid_dn(change.anchor or "")))  # fmt: skip
        return ExportResult(change.change_id, ExportOutcome.APPLIED, change.anchor)

    # --- answers -----------------------------------------------------------------------

    def _write(
        self,
        change: ExportChange,
        dn: str,
        names: Sequence[str],
        right: str,
        request: Callable[[], None],
    ) -> None:
        try:
            request()
        except NoSuchObjectError as exc:
            if change.kind is ExportKind.DELETE:
                raise _NotThere from exc
            raise self._refusal(change, dn, exc, names, right) from exc
        except (WriteRefusedError, InsufficientRightsError) as exc:
            raise self._refusal(change, dn, exc, names, right) from exc

    def _refusal(
        self,
        change: ExportChange,
        dn: str,
        exc: ConnectorError,
        names: Sequence[str],
        right: str = "",
    ) -> _Refused:
        if isinstance(exc, InsufficientRightsError):
            return _Refused(f"{dn}: insufficient rights: the account lacks {right} ({exc})")
        if isinstance(exc, NoSuchObjectError):
            if change.kind is ExportKind.ADD:
                return _Refused(f"{dn}: {exc} (does the export OU exist?)")
            return _Refused(f"{dn}: {exc} (the object, or a DN one of its values names, "
                            "does not exist)")  # fmt: skip
        info = exc.info if isinstance(exc, WriteRefusedError) else str(exc)
        named = attribute_named(info, names) or attribute_named(str(exc), names)
        what = "an object with this value already exists" if isinstance(
            exc, AlreadyExistsError) else "AD refused the value"  # fmt: skip
        prefix = f"{named}: " if named else ""
        return _Refused(f"{dn}: {prefix}{what} ({exc})")

    # --- reading -----------------------------------------------------------------------

    def _read(self, dn: str) -> ImportedObject | None:
        entry = self.conn.read_entry(dn, self.reader.attributes)
        if entry is None:
            return None
        object_type = object_type_of(entry[1].get("objectClass", [])) or "user"
        return self.reader.record(entry, object_type, ImportKind.PRESENT)

    def read_back(self, change: ExportChange) -> ImportedObject | None:
        """The object as AD holds it now: an add by its DN, anything else by its anchor."""
        if change.kind is ExportKind.ADD or change.anchor is None:
            return self._read(change.dn)
        return self._read(guid_dn(change.anchor))


class _NotThere(Exception):
    """The object a delete was about is gone already."""


_SETTLED = frozenset({"TYPE_OR_VALUE_EXISTS", "ALREADY_EXISTS", "NO_SUCH_ATTRIBUTE"})


def _settled_already(exc: WriteRefusedError) -> bool:
    """Whether AD refused a member value because the change is in place already (Samba
    says "unwilling to perform: Attribute member already deleted" of a removed one)."""
    if isinstance(exc, AlreadyExistsError) or exc.result in _SETTLED:
        return True
    return exc.result == "UNWILLING_TO_PERFORM" and "already deleted" in str(exc).lower()


def _member_problem(operation: int, name: str, value: bytes, exc: ConnectorError) -> str:
    doing = "adding" if operation == ldap.MOD_ADD else "removing"
    if isinstance(exc, NoSuchObjectError):
        return f"{name}: {doing} {value.decode(errors='replace')}: no such object ({exc})"
    return f"{name}: {doing} {value.decode(errors='replace')}: AD refused it ({exc})"


def _refuse_passwords(change: ExportChange) -> None:
    for name, _ in change.changes:
        if name.lower() in PASSWORD_ATTRIBUTES:
            raise _Refused(f"{change.dn}: {name}: a password never flows from a rule (it "
                           "would be stored); the connector generates it")  # fmt: skip


def _check_account_control(change: ExportChange) -> None:
    """A userAccountControl a rule flows is an integer, refused before any request."""
    for name, values in change.changes:
        if name.lower() == "useraccountcontrol":
            _integer(change, name, values)


def _integer(change: ExportChange, name: str, values: Values) -> int | None:
    if not values:
        return None
    try:
        return int(str(values[0]))
    except ValueError:
        raise _Refused(f"{change.dn}: {name}: {values[0]!r} is not an integer") from None


def _references(values: Values, previous: Values) -> bool:
    return any(type(v) is Reference for v in (*values, *previous))
