"""The record blocks of an LDIF file, read as bytes so that unchanged records cost nothing.

The delta import fingerprints each record's raw text and parses only the records whose
fingerprint it has not seen before. Splitting the bytes at ``\\n\\n`` finds the records
without decoding or scanning them line by line; the few pieces that are not one plain
record (comment lines, whitespace-only lines, blank-line runs) are decoded and split by
:func:`~hybridsync.connectors.ldif.parser.split_blocks`, so both ways give the very
blocks (text and first line) that splitting the decoded file would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from hybridsync.connectors.ldif.parser import split_blocks

_BOM = b"\xef\xbb\xbf"
_SUSPECT = re.compile(rb"\n[#\t ]")
"""A comment, a folded line or a whitespace-only line may start here."""
_BLANK_LINE = re.compile(rb"\n[ \t]+\n")
_SPACE = frozenset(b" \t\n\r\x0b\x0c")
_FIRST = _SPACE | {ord("#")}


def _plain(piece: bytes) -> bool:
    """Whether the piece is exactly one record: no comment, no whitespace-only line,
    nothing around it. Tests of its two ends and one search for the rare cases; this
    runs for every record of every delta, so it must cost less than fingerprinting."""
    if not piece or piece[0] in _FIRST or piece[-1] in _SPACE:
        return False
    if _SUSPECT.search(piece) is None:
        return True
    return b"\n#" not in piece and _BLANK_LINE.search(piece) is None


def raw_blocks(stream: BinaryIO, chunk_size: int = 1 << 22) -> Iterator[tuple[int, bytes]]:
    """(first line, UTF-8 text) of each record of a binary stream, a chunk at a time."""
    line, rest, first = 1, b"", True
    while data := stream.read(chunk_size):
        if first:
            data, first = data.removeprefix(_BOM), False
        text, held = _newlines(rest + data)
        cut = text.rfind(b"\n\n")
        if cut < 0:
            rest = text + held
            continue
        for piece in text[:cut].split(b"\n\n"):
            if _plain(piece):
                yield line, piece  # the common case: exactly one record, as it is
            else:
                yield from _blocks_of(piece, line)
            line += piece.count(b"\n") + 2
        rest = text[cut + 2 :] + held
    if rest:
        yield from _blocks_of(_newlines(rest + b"\n")[0][:-1], line)


def _newlines(text: bytes) -> tuple[bytes, bytes]:
    """CRLF and CR as LF (as reading in text mode does); a CR ending the chunk is held
    back, as the next chunk may start with its LF."""
    if b"\r" not in text:
        return text, b""
    held = b"\r" if text.endswith(b"\r") else b""
    return text[: len(text) - len(held)].replace(b"\r\n", b"\n").replace(b"\r", b"\n"), held


def _blocks_of(piece: bytes, line: int) -> Iterator[tuple[int, bytes]]:
    if _plain(piece):
        yield line, piece
        return
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:
        yield line, piece  # parsing it reports the bad encoding, with its line
        return
    # Wrapped in newlines, the piece splits as it would inside the whole file.
    for start, block in split_blocks("\n" + text + "\n", line - 1):
        yield start, block.encode("utf-8")
