"""Conversion functions, beyond the shared vectors."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.unit.expressions.support import evaluate

from hybridsync.errors import ExpressionEvalError
from hybridsync.expressions import MultiValue, Reference, compile_expression
from hybridsync.expressions.functions.conversion import cbin


def test_string_from_sid() -> None:
    sid = bytes.fromhex("010500000000000515000000a065cf7e784b9b5fe77c8770bb040000")
    assert evaluate("StringFromSid([s])", s=sid) == "S-1-5-21-2127521184-1604012920-1887927527-1211"


def test_string_from_guid_matches_the_objectguid_of_a_uuid() -> None:
    value = uuid.uuid4()
    assert evaluate("StringFromGuid([g])", g=value.bytes_le) == str(value)


def test_source_anchor_from_object_guid() -> None:
    guid = uuid.UUID("a0b1c2d3-e4f5-0617-2839-4a5b6c7d8e9f").bytes_le
    expected = base64.b64encode(guid).decode()
    assert evaluate("ConvertToBase64([objectGUID])", objectGUID=guid) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('CNum(" -42 ")', -42),
        ("CStr(42)", "42"),
        ("CStr(True)", "True"),
        ('CStr(CRef("CN=x"))', "CN=x"),
        ('ConvertFromBase64("SGk=", ASCII)', "Hi"),
        ('ConvertToUTF8Hex("é")', "C3A9"),
        ('ConvertFromUTF8Hex("C3A9")', "é"),
        ('IsGuid("{00112233-4455-6677-8899-AABBCCDDEEFF}")', True),
        ('IsGuid("00112233445566778899AABBCCDDEEFF")', False),
        ('IsDate("12/25/2007")', True),
        ('IsDate("yesterday")', False),
        ('IsNumeric("12")', True),
        ('IsNumeric("1.5")', False),
        ("IsString([b])", False),
        ("IsString([n])", True),
        ('CBool("0")', False),
    ],
)
def test_conversion(text: str, expected: object) -> None:
    assert evaluate(text, b=b"\x01", n=5) == expected


def test_cref_gives_references() -> None:
    assert evaluate('CRef("CN=a")') == Reference("CN=a")
    references = MultiValue([Reference("CN=a"), Reference("CN=b")])
    assert evaluate("CRef([m])", m=["CN=a", "CN=b"]) == references


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('CGuid("nope")', "not a GUID"),
        ('CNum("1.5")', "must be a number"),
        ('ConvertFromBase64("***")', "not base64"),
        ('ConvertFromUTF8Hex("ZZ")', "not hexadecimal"),
        ("StringFromGuid([b])", "16 bytes"),
        ("StringFromSid([b])", "not a binary SID"),
        ("CStr([b])", "must be a string, not a binary value"),
        ('CBin("not base64!")', "base64"),
        ("CBin(65536, 2)", "CBin's number 65536 does not fit in 2 byte"),
        ("CBin(-1, 1)", "CBin's number -1 does not fit in 1 byte"),
        ("CBin(1, 0)", "CBin's length must be 1 to 8 bytes, not 0"),
        ("CBin(1, 9)", "CBin's length must be 1 to 8 bytes, not 9"),
        ("CBin([b], 2)", "CBin's number must be a number, not a binary value"),
    ],
)
def test_conversion_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionEvalError, match=message):
        evaluate(text, b=b"\x01\x02")


def _outcome(run: Callable[[], object]) -> tuple[str, object]:
    try:
        return "value", run()
    except ExpressionEvalError as error:
        return "error", error.message


@settings(max_examples=200, deadline=None)
@given(number=st.integers(-(2**63), 2**63 - 1), length=st.integers(-1, 10))
@example(number=2**64 - 1, length=8)  # too big for the language's 64-bit numbers
@example(number=255, length=1)
def test_two_argument_cbin_compiled_agrees_with_the_function(number: int, length: int) -> None:
    compiled = compile_expression("CBin([n], [k])")
    generated = _outcome(lambda: compiled.evaluate({"n": number, "k": length}))
    assert generated == _outcome(lambda: cbin(number, length))
    if 1 <= length <= 8 and 0 <= number < min(256**length, 2**63):
        assert generated == ("value", number.to_bytes(length, "little"))
    else:
        assert generated[0] == "error"
