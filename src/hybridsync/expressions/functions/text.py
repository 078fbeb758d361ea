"""Text functions: InStr, Left, Mid, Word, PCase, Replace, ReplaceChars, ..."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from functools import lru_cache

from hybridsync.expressions.coerce import fail, per_value, to_enum, to_number, to_text
from hybridsync.expressions.signatures import FunctionSpec, function

_COMPARE = ("vbBinaryCompare", "vbTextCompare")


def _on_each_string(operation: Callable[[str], object]) -> Callable[[object], object]:
    """``operation`` on a string; on a multi-valued value, on each of its values."""

    def apply(value: object) -> object:
        if type(value) is str:
            return operation(value)
        return per_value(apply, value)

    return apply


lcase = _on_each_string(str.lower)
ucase = _on_each_string(str.upper)
trim = _on_each_string(str.strip)
ltrim = _on_each_string(str.lstrip)
rtrim = _on_each_string(str.rstrip)
length = _on_each_string(len)


def _find(check: str, match: str, start: int, text_compare: bool, reverse: bool) -> int:
    if text_compare:
        check, match = check.casefold(), match.casefold()
    if reverse:
        end = len(check) if start == -1 else start
        return check.rfind(match, 0, end) + 1
    return check.find(match, start - 1) + 1


def _instr(reverse: bool, check: object, match: object, start: object, compare: object) -> object:
    if check is None or match is None:
        return None
    text_compare = compare is not None and to_enum(compare, _COMPARE, "compare") == _COMPARE[1]
    position = -1 if start is None and reverse else to_number(1 if start is None else start)
    if position == 0 or position < -1:
        fail(f"start must be 1 or more, not {position}")
    return per_value(_find, check, to_text(match, "match"), position, text_compare, reverse)


def instr(check: object, match: object, start: object = None, compare: object = None) -> object:
    if type(check) is str and type(match) is str and start is None:
        return check.find(match) + 1
    return _instr(False, check, match, start, compare)


def instr_rev(check: object, match: object, start: object = None, compare: object = None) -> object:
    return _instr(True, check, match, start, compare)


def _left(text: str, count: int) -> str:
    return text if count < 0 else text[:count]


def left(value: object, count: object) -> object:
    if value is None:
        return ""
    return per_value(_left, value, to_number(count, "numChars"))


def _right(text: str, count: int) -> str:
    if count < 0:
        return text
    return text[len(text) - count :] if count else ""


def right(value: object, count: object) -> object:
    if value is None:
        return ""
    return per_value(_right, value, to_number(count, "numChars"))


def _mid(text: str, start: int, count: int | None) -> str:
    # As documented: a start outside the string, or a negative count, gives the input.
    if start <= 0 or start > len(text) or (count is not None and count < 0):
        return text
    return text[start - 1 :] if count is None else text[start - 1 : start - 1 + count]


def mid(value: object, start: object, count: object = None) -> object:
    if value is None:
        return ""
    number = None if count is None else to_number(count, "numChars")
    return per_value(_mid, value, to_number(start, "start"), number)


MAX_PADDED_LENGTH = 1_048_576
"""PadLeft/PadRight refuse longer results: a width read from bad data must not exhaust memory."""


def _pad(text: str, width: int, pad: str, on_left: bool) -> str:
    if width > MAX_PADDED_LENGTH:
        fail(f"cannot pad to {width} characters (at most {MAX_PADDED_LENGTH})")
    if len(text) >= width:
        return text
    return text.rjust(width, pad) if on_left else text.ljust(width, pad)


def _pad_char(pad: object) -> str:
    if pad is None:
        fail("padChar must be one character, not Null")
    char = to_text(pad, "padChar")
    if len(char) != 1:
        fail(f"padChar must be exactly one character, not {char!r}")
    return char


def pad_left(value: object, width: object, pad: object) -> object:
    if value is None:
        return ""
    return per_value(_pad, value, to_number(width, "length"), _pad_char(pad), True)


def pad_right(value: object, width: object, pad: object) -> object:
    if value is None:
        return ""
    return per_value(_pad, value, to_number(width, "length"), _pad_char(pad), False)


_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


def _title(match: re.Match[str]) -> str:
    word = match.group(0)
    # .NET TextInfo.ToTitleCase leaves words in all capitals alone (acronyms).
    return word if word.isupper() else word[0].upper() + word[1:].lower()


def pcase(value: object) -> object:
    if type(value) is str:
        return _WORD.sub(_title, value)
    return per_value(pcase, value)


def _monikers(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\r", "\r").replace("\\t", "\t")


def _replace(text: str, old: str, new: str) -> str:
    return text.replace(old, new) if old else text


def replace(value: object, old: object, new: object) -> object:
    if value is None:
        return None
    old_text = _monikers(to_text(old, "old")) if old is not None else ""
    new_text = _monikers(to_text(new, "new")) if new is not None else ""
    return per_value(_replace, value, old_text, new_text)


@lru_cache(maxsize=256)
def replace_chars_table(pattern: str) -> dict[int, str]:
    """The translation table of a ReplaceChars pattern ``src:target,src:target,...``.

    Raises:
        ValueError: a pair without ':' or a source that is not exactly one character.
    """
    table: dict[int, str] = {}
    for pair in pattern.split(","):
        if not pair.strip():
            continue
        source, colon, target = pair.partition(":")
        source = "".join(source.split())
        if not colon or len(source) != 1:
            raise ValueError(f"bad ReplaceChars pair {pair!r}: expected one character, ':', target")
        table[ord(source)] = "".join(target.split())
    return table


def replace_chars(value: object, pattern: object) -> object:
    if value is None:
        return None
    try:
        table = replace_chars_table(to_text(pattern, "pattern"))
    except ValueError as error:
        fail(str(error))
    return per_value(str.translate, value, table)


def _word(text: str, number: int, delimiters: str) -> str:
    if number < 1:
        return ""
    words = (
        [w for w in re.split("|".join(map(re.escape, delimiters)), text) if w]
        if (delimiters)
        else [text]
    )
    return words[number - 1] if number <= len(words) else ""


def word(value: object, number: object, delimiters: object) -> object:
    if value is None:
        return ""
    marks = "" if delimiters is None else to_text(delimiters, "delimiters")
    return per_value(_word, value, to_number(number, "number"), marks)


def new_guid() -> str:
    return str(uuid.uuid4())


_S, _N, _E = "str", "num", "enum"

FUNCTIONS: tuple[FunctionSpec, ...] = (
    function("Guid", "Text", "str", (), implementation=new_guid),
    function("GUID", "Text", "str", (), implementation=new_guid),
    function(
        "InStr", "Text", "num", (_S, _S), (_S, _S, _N), (_S, _S, _N, _E),
        implementation=instr, maps=True,
    ),
    function(
        "InStrRev", "Text", "num", (_S, _S), (_S, _S, _N), (_S, _S, _N, _E),
        implementation=instr_rev, maps=True,
    ),
    function("LCase", "Text", "str", (_S,), implementation=lcase, maps=True),
    function("Left", "Text", "str", (_S, _N), implementation=left, maps=True),
    function("Len", "Text", "num", (_S,), implementation=length, maps=True),
    function("LTrim", "Text", "str", (_S,), implementation=ltrim, maps=True),
    function("Mid", "Text", "str", (_S, _N), (_S, _N, _N), implementation=mid, maps=True),
    function("PadLeft", "Text", "str", (_S, _N, _S), implementation=pad_left, maps=True),
    function("PadRight", "Text", "str", (_S, _N, _S), implementation=pad_right, maps=True),
    function("PCase", "Text", "str", (_S,), implementation=pcase, maps=True),
    function("Replace", "Text", "str", (_S, _S, _S), implementation=replace, maps=True),
    function("ReplaceChars", "Text", "str", (_S, _S), implementation=replace_chars, maps=True),
    function("Right", "Text", "str", (_S, _N), implementation=right, maps=True),
    function("RTrim", "Text", "str", (_S,), implementation=rtrim, maps=True),
    function("Trim", "Text", "str", (_S,), implementation=trim, maps=True),
    function("UCase", "Text", "str", (_S,), implementation=ucase, maps=True),
    function("Word", "Text", "str", (_S, _N, _S), implementation=word, maps=True),
)  # fmt: skip
