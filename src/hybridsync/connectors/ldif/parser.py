"""A streaming LDIF reader (RFC 2849) for files from ``ldapsearch`` and ``ldifde``.

Handles folded lines, ``attr:: base64`` values, comments, ``version:`` and
``changetype: add`` lines. Base64 values of binary attributes (objectGUID, objectSid,
ms-DS-ConsistencyGuid, ``;binary`` ones, anything that is not UTF-8) stay bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from hybridsync.errors import ConnectorError

BINARY_ATTRIBUTES = frozenset(
    name.lower()
    for name in (
        "objectGUID", "objectSid", "mS-DS-ConsistencyGuid", "msExchMailboxGuid",
        "thumbnailPhoto", "jpegPhoto", "userCertificate", "msExchMasterAccountSid",
        "sIDHistory", "msRTCSIP-OriginatorSid", "userSMIMECertificate",
    )
)  # fmt: skip


class LdifSyntaxError(ConnectorError):
    """A record of the file is not valid LDIF; the message names the line."""


@dataclass(frozen=True, slots=True)
class LdifRecord:
    dn: str
    attributes: dict[str, list[str | bytes]]
    line: int


def read_records(
    lines: Iterable[str], on_error: Callable[[str], None] | None = None
) -> Iterator[LdifRecord]:
    """Records of an LDIF stream, in file order.

    A malformed record raises :class:`LdifSyntaxError`, or, given ``on_error``, is
    reported there and skipped, so one bad entry never hides the others.
    """
    for start, block in read_blocks(lines):
        record = parse_block(start, block, on_error)
        if record is not None:
            yield record


def read_blocks(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """The raw text of each record (comments dropped), with its first line number.

    Two files can be compared block by block without parsing: the LDIF delta import
    parses only the blocks whose text changed.
    """
    block: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            if block:
                yield start, "\n".join(block)
                block = []
            continue
        if line.startswith("#"):
            continue
        if not block:
            start = number
        block.append(line)
    if block:
        yield start, "\n".join(block)


_SEPARATOR = re.compile(r"\n(?:[ \t]*\n)+")


def stream_blocks(stream: TextIO, chunk_size: int = 1 << 22) -> Iterator[tuple[int, str]]:
    """:func:`read_blocks` over a text stream, a few megabytes at a time (bounded memory)."""
    line, rest = 1, ""
    while data := stream.read(chunk_size):
        text = rest + data
        cut = text.rfind("\n\n")
        if cut < 0:
            rest = text
            continue
        yield from split_blocks(text[:cut], line)
        line += text.count("\n", 0, cut + 2)
        rest = text[cut + 2 :]
    if rest:
        yield from split_blocks(rest, line)


def split_blocks(text: str, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """:func:`read_blocks` over a whole text, at the speed of ``re.split``."""
    text = text.replace("\r\n", "\n")
    position, line = 0, first_line
    for separator in _SEPARATOR.finditer(text):
        yield from _block_of(text[position : separator.start()], line)
        line += text.count("\n", position, separator.end())
        position = separator.end()
    yield from _block_of(text[position:], line)


def _block_of(chunk: str, line: int) -> Iterator[tuple[int, str]]:
    stripped = chunk.lstrip("\n")
    line += len(chunk) - len(stripped)
    chunk = stripped.rstrip("\n")
    if chunk.startswith("#") or "\n#" in chunk:
        kept = [
            (n, t) for n, t in enumerate(chunk.split("\n"), start=line) if not t.startswith("#")
        ]
        if kept:
            yield kept[0][0], "\n".join(t for _, t in kept)
        return
    if chunk.strip():
        yield line, chunk


def parse_block(
    start: int, block: str, on_error: Callable[[str], None] | None = None
) -> LdifRecord | None:
    """One record from its raw block; see :func:`read_records` for ``on_error``."""
    try:
        if "\n " in block:
            return _record(start, list(_unfold(start, block.split("\n"))))
        return _record(start, enumerate(block.split("\n"), start))  # nothing folded
    except LdifSyntaxError as exc:
        if on_error is None:
            raise
        on_error(str(exc))
        return None


def _unfold(start: int, lines: list[str]) -> Iterator[tuple[int, str]]:
    current: str | None = None
    current_line = start
    for offset, line in enumerate(lines):
        if line.startswith(" ") and current is not None:
            current += line[1:]
            continue
        if current is not None:
            yield current_line, current
        current, current_line = line, start + offset
    if current is not None:
        yield current_line, current


_KEYWORDS = frozenset({"version", "dn", "changetype"})
_KEYWORD_LENGTHS = frozenset(len(word) for word in _KEYWORDS)


def _record(start: int, lines: Iterable[tuple[int, str]]) -> LdifRecord | None:
    dn: str | None = None
    attributes: dict[str, list[str | bytes]] = {}
    for number, line in lines:
        name, separator, rest = line.partition(":")
        if not separator or not name or rest[:1] in _SPECIAL_VALUE:
            name, value = _split(number, line)  # base64, URL, or not an attribute line
        else:
            value = rest[1:] if rest[:1] == " " else rest
        if len(name) in _KEYWORD_LENGTHS and name.lower() in _KEYWORDS:
            lowered = name.lower()
            if lowered == "version" and dn is None:
                continue
            if lowered == "dn":
                dn = value if isinstance(value, str) else value.decode("utf-8", "replace")
                continue
            if dn is not None and lowered == "changetype":
                if value != "add":
                    raise LdifSyntaxError(f"line {number}: only 'changetype: add' records are read")
                continue
        if dn is None:
            raise LdifSyntaxError(f"line {number}: an LDIF record must start with 'dn:'")
        attributes.setdefault(name.split(";")[0] if ";" in name else name, []).append(value)
    if dn is None:
        return None
    return LdifRecord(dn, attributes, start)


_SPECIAL_VALUE = frozenset({":", "<"})


def _split(number: int, line: str) -> tuple[str, str | bytes]:
    name, separator, rest = line.partition(":")
    if not separator or not name:
        raise LdifSyntaxError(f"line {number}: expected 'attribute: value', got {line[:60]!r}")
    if rest.startswith(":"):
        return name, _decode_base64(number, name, rest[1:].strip())
    if rest.startswith("<"):
        raise LdifSyntaxError(f"line {number}: URL values ('{name}:<') are not supported")
    return name, rest[1:] if rest.startswith(" ") else rest


def _decode_base64(number: int, name: str, text: str) -> str | bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LdifSyntaxError(f"line {number}: attribute {name!r} is not valid base64") from exc
    if name.lower() in BINARY_ATTRIBUTES or name.lower().endswith(";binary"):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
