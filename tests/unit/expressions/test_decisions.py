"""One test per decision written down in docs/expressions.md ("Decisions").

Each test is named after the decision it pins; the document cites these names.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hybridsync.errors import ExpressionEvalError, ExpressionSyntaxError, ExpressionUserError
from hybridsync.expressions import MultiValue, Reference, compile_expression


def value(text: str, **attributes: object) -> object:
    return compile_expression(text).evaluate(attributes)


def test_precedence_comparison_binds_tighter_than_and_than_or() -> None:
    assert value("1 = 2 && 1 = 1 || 2 = 2") is True
    assert value('IsPresent([a]) = False || [a] = "x"', a="x") is True
    assert value('(IsPresent([m]) = True && (InStr([m], "@") > 0))', m="a@b") is True


def test_precedence_arithmetic_and_concatenation_left_to_right() -> None:
    assert value("2+5*3") == 21
    assert value("10-4-3") == 3
    assert value('1 + 2 & "x"') == "3x"
    with pytest.raises(ExpressionEvalError, match="'x1'"):
        value('"x" & 1 + 2')  # ("x" & 1) + 2


def test_concatenation_treats_null_as_empty_string() -> None:
    assert value('"a" & NULL & [missing] & "b"') == "ab"


def test_arithmetic_with_null_is_null() -> None:
    assert value("NULL + 1") is None
    assert value("[missing] * 2") is None


def test_equality_with_null() -> None:
    assert value("NULL = NULL") is True
    assert value('NULL = "x"') is False
    assert value('NULL <> "x"') is True
    assert value('[missing] = ""') is False
    assert value("NULL < 1") is False


def test_string_comparison_is_case_sensitive() -> None:
    assert value('"a" = "A"') is False
    assert value('"a" <> "A"') is True
    assert value('"B" < "a"') is True


def test_comparison_converts_numeric_strings_and_booleans() -> None:
    assert value('1 = "1"') is True
    assert value("[flag] = True", flag="TRUE") is True
    assert value('"abc" = 1') is False


def test_reference_comparison_ignores_case() -> None:
    assert value('CRef("CN=A,DC=x") = "cn=a,dc=X"') is True


def test_string_literal_escapes() -> None:
    assert value(r'"say \"hi\""') == 'say "hi"'
    assert value(r'"\\0ACNF:"') == r"\0ACNF:"
    assert value(r'"a\tb"') == r"a\tb"


def test_instr_default_compare_is_binary() -> None:
    assert value('InStr("aA", "A")') == 2
    assert value('InStr("aA", "A", 1, vbTextCompare)') == 1


def test_guid_byte_order_is_dotnet_mixed_endian() -> None:
    data = value('CGuid("{00112233-4455-6677-8899-AABBCCDDEEFF}")')
    assert data == bytes.fromhex("33221100554477668899aabbccddeeff")
    assert value("StringFromGuid([g])", g=data) == "00112233-4455-6677-8899-aabbccddeeff"


def test_now_is_utc() -> None:
    before = datetime.now(UTC)
    now = value("Now()")
    assert isinstance(now, datetime)
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_remove_duplicates_is_case_sensitive_and_keeps_order() -> None:
    assert value('RemoveDuplicates(Split("b,a,A,a,b", ","))') == MultiValue(["b", "a", "A"])


def test_cbool_of_null_is_false() -> None:
    assert value("CBool(NULL)") is False
    assert value("IIF([missing], 1, 2)") == 2


def test_conditions_accept_numbers_and_boolean_strings() -> None:
    assert value('IIF("False", 1, 2)') == 2
    assert value("IIF(5, 1, 2)") == 1
    with pytest.raises(ExpressionEvalError, match="boolean"):
        value('IIF("maybe", 1, 2)')


def test_string_functions_give_null_for_null_unless_documented() -> None:
    assert value("LCase(NULL)") is None
    assert value("Len([missing])") is None
    assert value("Left([missing], 2)") == ""
    assert value('Word([missing], 1, " ")') == ""


def test_string_functions_apply_to_every_value() -> None:
    assert value("Trim([p])", p=[" a ", "b "]) == MultiValue(["a", "b"])
    assert value('Word([p],1,"@") & "@contoso.com"', p=["x@a.com", "y@b.com"]) == MultiValue(
        ["x@contoso.com", "y@contoso.com"]
    )


def test_iif_with_a_multi_valued_condition_chooses_per_value() -> None:
    addresses = ["SIP:a@x", "SMTP:a@x", "smtp:b@x"]
    result = value('IIF(InStr([p],"SIP:")=1,NULL,[p])', p=addresses)
    assert result == MultiValue(["SMTP:a@x", "smtp:b@x"])


def test_two_multi_valued_operands_combine_position_by_position() -> None:
    assert value("[a] & [b]", a=["1", "2"], b=["3", "4"]) == MultiValue(["13", "24"])
    assert value("Left([p], 1) & Right([p], 1)", p=["ab", "cd"]) == MultiValue(["ab", "cd"])
    with pytest.raises(ExpressionEvalError, match="different lengths"):
        value("[a] = [b]", a=["1", "2"], b=["1", "2", "3"])


def test_multi_valued_results_drop_null_and_empty_is_null() -> None:
    assert value('Where($v, [p], $v = "z")', p=["a", "b"]) is None
    assert value('Select($v, [p], IIF($v = "a", NULL, $v))', p=["a", "b"]) == MultiValue(["b"])


def test_single_element_list_is_multi_valued() -> None:
    assert value("[p]", p=["only"]) == MultiValue(["only"])


def test_switch_conditions_stop_at_the_first_true() -> None:
    assert value('Switch(True, "a", Error("never"), "b")') == "a"
    assert value('Switch(False, "a", [x] = "y", "b")', x="y") == "b"
    assert value('Switch(False, "a")') is None


def test_word_treats_consecutive_delimiters_as_one() -> None:
    assert value('Word("a  b", 2, " ")') == "b"


def test_split_limit_keeps_the_rest_in_the_last_value() -> None:
    assert value('Split("a,b,c", ",", 2)') == MultiValue(["a", "b,c"])
    assert value('Split("", ",")') is None


def test_join_of_null_is_null() -> None:
    assert value("Join([missing])") is None


def test_missing_parameter_is_an_error() -> None:
    with pytest.raises(ExpressionEvalError, match=r"%Domain.FQDN% is not defined"):
        value('"x@" & %Domain.FQDN%')


def test_imported_value_falls_back_to_the_attributes() -> None:
    compiled = compile_expression('ImportedValue("mail")')
    assert compiled.evaluate({"mail": "a"}) == "a"
    assert compiled.evaluate({"mail": "a"}, imported={"mail": "b"}) == "b"


def test_date_from_num_never_is_null() -> None:
    assert value("DateFromNum(9223372036854775807)") is None
    assert value("DateFromNum(0)") == datetime(1601, 1, 1, tzinfo=UTC)


def test_dates_without_zone_are_utc_and_print_as_iso() -> None:
    assert value('CStr(CDate("2001-02-03 04:05"))') == "2001-02-03T04:05:00Z"


def test_numbers_are_64_bit_integers() -> None:
    assert value("7 / -2") == -3
    with pytest.raises(ExpressionEvalError, match="division by zero"):
        value("1 / 0")
    with pytest.raises(ExpressionEvalError, match="64-bit"):
        value("9223372036854775807 + 1")
    with pytest.raises(ExpressionSyntaxError):
        compile_expression("1.5")


def test_names_are_case_sensitive_with_a_hint() -> None:
    with pytest.raises(ExpressionSyntaxError, match="did you mean LCase"):
        compile_expression("lcase([a])")
    with pytest.raises(ExpressionSyntaxError, match="did you mean True"):
        compile_expression("IIF(true, 1, 2)")


def test_dn_component_unescapes_and_gives_null_out_of_range() -> None:
    assert value(r'DNComponent(CRef("cn=Doe\\, John,ou=x"), 1)') == "Doe, John"
    assert value('DNComponent(CRef("cn=a,ou=b"), 3)') is None


def test_escape_dn_component_escapes_the_value_only() -> None:
    assert value('EscapeDNComponent("cn=" & [n])', n="Doe, John") == r"cn=Doe\, John"
    assert value('EscapeDNComponent("#a+b ")') == r"\#a\+b\ "


def test_contains_on_references_matches_whole_names() -> None:
    members = [Reference("CN=A,DC=x"), Reference("CN=B,DC=x")]
    assert value('Contains([m], "cn=b,dc=x")', m=members) == 2
    assert value('Contains([m], "CN=B")', m=members) == 0


def test_pcase_leaves_acronyms() -> None:
    assert value('PCase("hello NASA wORLD")') == "Hello NASA World"


def test_replace_monikers_and_empty_search() -> None:
    assert value(r'Replace([a],"\r\n",", ")', a="One\r\nTwo") == "One, Two"
    assert value('Replace("abc", "", "x")') == "abc"


def test_guid_has_both_spellings() -> None:
    first, second = value("Guid()"), value("GUID()")
    assert isinstance(first, str)
    assert isinstance(second, str)
    assert len(first) == len(second) == 36
    assert first != second


def test_cbin_reads_base64_text() -> None:
    assert value('CBin("AQI=")') == b"\x01\x02"
    assert value("CBin([b])", b=b"\x00") == b"\x00"


def test_cbin_of_a_number_and_a_length_is_little_endian() -> None:
    # Connect's NGC key rule writes a 2-byte entry length then a 1-byte identifier.
    assert value("CBin(258, 2)") == b"\x02\x01"
    assert value("CBin(2, 1)") == b"\x02"
    assert value("CBin([n], 4)", n=["1", 65535]) == MultiValue([b"\x01\0\0\0", b"\xff\xff\0\0"])
    assert value("CBin(NULL, 2)") is None


def test_convert_to_base64_of_binary_is_plain_base64() -> None:
    assert value("ConvertToBase64([g])", g=b"\x01\x02") == "AQI="


def test_presence_tests_look_at_the_whole_attribute() -> None:
    assert value("IsPresent([p])", p=["", "x"]) is True
    assert value("IsNull([p])", p=[]) is True
    assert value("IsNumeric([p])", p=["1", "x"]) == MultiValue([True, False])


def test_error_message_is_the_author_s_text() -> None:
    with pytest.raises(ExpressionUserError) as raised:
        value('Error("Bad " & [a])', a="thing")
    assert str(raised.value) == "Bad thing"
    assert raised.value.column == 1


def test_item_out_of_bounds_message() -> None:
    with pytest.raises(ExpressionEvalError, match="index 5 is out of bounds: there are 1 values"):
        value("Item([p], 5)", p=["a"])


def test_expressions_nest_at_most_64_deep() -> None:
    assert value("Trim(" * 63 + '"x"' + ")" * 63) == "x"
    with pytest.raises(ExpressionSyntaxError, match="deeper than 64"):
        compile_expression("Trim(" * 64 + '"x"' + ")" * 64)


def test_switch_without_pairs_is_refused_at_compile_time() -> None:
    with pytest.raises(ExpressionSyntaxError, match="condition/value pairs"):
        compile_expression('Switch(True, "a", False)')
