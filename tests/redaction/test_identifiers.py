"""Art. 34: GB 11643 ID numbers and GB 32100 credit codes, against python-stdnum."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from redaction.errors import InvalidIdentifier
from redaction.identifiers import (
    CREDIT_CODE_ALPHABET,
    IdentifierKind,
    OtherDocumentType,
    SubjectKind,
    credit_code_check_character,
    parse_identifier,
    validate_credit_code,
    validate_id_number,
)
from tests.redaction.factories import TODAY
from tests.redaction.strategies import PROPERTY, id_numbers


def test_published_examples() -> None:
    assert validate_id_number("11010519491231002X", on=TODAY) == "11010519491231002X"
    assert validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    with pytest.raises(InvalidIdentifier, match="0-9A-HJ-NPQRTUWXY"):
        validate_credit_code("91350100M000100Y4Z")
    with pytest.raises(InvalidIdentifier, match="check character"):
        validate_credit_code("91350100M000100Y44")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("11010519491231002", "17 digits"),
        ("1101051949123100X2", "17 digits"),
        ("110105194912310021", "check character"),
        ("99010519491231002X", "region"),
        ("110105194902300026", "birth date"),
        ("110105189912310023", "birth date"),
        ("110105203001010025", "birth date"),
        ("１１0105194912310021", "17 digits"),
    ],
)
def test_malformed_id_numbers(value: str, problem: str) -> None:
    with pytest.raises(InvalidIdentifier, match=problem) as raised:
        validate_id_number(value, on=TODAY)
    assert value not in raised.value.detail
    assert raised.value.to_problem()["article"] == "Art. 34"


def test_lower_case_x_and_spaces_are_normalized() -> None:
    assert validate_id_number(" 11010519491231002x ", on=TODAY) == "11010519491231002X"


@PROPERTY
@given(id_numbers())
def test_valid_numbers_agree_with_stdnum(number: str) -> None:
    assert ric.validate(number) == validate_id_number(number, on=TODAY)


@PROPERTY
@given(id_numbers(), st.integers(0, 16), st.sampled_from("0123456789"))
def test_single_substitutions_are_rejected_by_both(number: str, position: int, digit: str) -> None:
    assume(number[position] != digit)
    altered = number[:position] + digit + number[position + 1 :]
    assert not ric.is_valid(altered)
    with pytest.raises(InvalidIdentifier):
        validate_id_number(altered, on=TODAY)


@PROPERTY
@given(st.text("0123456789X", min_size=18, max_size=18))
@example("50070432300901343X")  # python-stdnum's lookup fails on its region code
def test_arbitrary_strings_never_pass_a_wrong_checksum(number: str) -> None:
    try:
        validate_id_number(number, on=TODAY)
    except InvalidIdentifier:
        accepted = False
    else:
        accepted = True
        assert ric.calc_check_digit(number) == number[17]
        assert ric.get_birth_date(number) <= TODAY
    if stdnum_accepts(number) and date(1900, 1, 1) <= ric.get_birth_date(number) <= TODAY:
        assert accepted


def stdnum_accepts(number: str) -> bool:
    """python-stdnum's verdict on an ID number. Its birth-place lookup raises ``KeyError`` for
    region codes its table lists without a county (found here: ``500704...``): no verdict,
    so the comparison does not apply."""
    try:
        return bool(ric.is_valid(number))
    except KeyError:
        return False


credit_code_bodies = st.builds(
    lambda head, tail: head + tail,
    st.text("0123456789", min_size=8, max_size=8),
    st.text(CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
)


@PROPERTY
@given(credit_code_bodies)
def test_credit_code_check_character_agrees_with_stdnum(body: str) -> None:
    code = body + credit_code_check_character(body)
    assert uscc.calc_check_digit(body) == code[17]
    assert uscc.validate(code) == validate_credit_code(code)


@PROPERTY
@given(credit_code_bodies, st.sampled_from(CREDIT_CODE_ALPHABET))
def test_credit_code_validity_agrees_with_stdnum(body: str, check: str) -> None:
    try:
        validate_credit_code(body + check)
    except InvalidIdentifier:
        accepted = False
    else:
        accepted = True
    assert accepted == uscc.is_valid(body + check)


def test_letters_in_the_first_two_positions_follow_gb_32100_not_stdnum() -> None:
    body = "N2330102MA1234567"
    code = body + credit_code_check_character(body)
    assert validate_credit_code(code) == code
    assert not uscc.is_valid(code)


@pytest.mark.parametrize(
    "value", ["91350100M000100Y4I", "91350100M000100O43", "9135010AM000100Y43"]
)
def test_credit_code_charset(value: str) -> None:
    with pytest.raises(InvalidIdentifier):
        validate_credit_code(value)


def test_parse_identifier_kinds() -> None:
    person = parse_identifier("id_number", "11010519491231002X", on=TODAY)
    company = parse_identifier("credit_code", "91350100m000100y43", on=TODAY)
    passport = parse_identifier("other_document", "e12345678", document_type="passport", on=TODAY)
    assert (person.subject_kind, person.key) == (
        SubjectKind.NATURAL,
        "id_number:11010519491231002X",
    )
    assert (company.subject_kind, company.key) == (
        SubjectKind.LEGAL,
        "credit_code:91350100M000100Y43",
    )
    assert passport.kind is IdentifierKind.OTHER_DOCUMENT
    assert passport.document_type is OtherDocumentType.PASSPORT
    assert (passport.subject_kind, passport.key) == (
        SubjectKind.NATURAL,
        "other_document:passport:E12345678",
    )


@pytest.mark.parametrize(
    ("kind", "value", "document_type"),
    [
        ("other_document", "E12345678", None),
        ("other_document", "E12345678", "library_card"),
        ("other_document", "X12345678", "hk_macao_permit"),
        ("id_number", "11010519491231002X", "passport"),
        ("social_security", "123", None),
    ],
)
def test_parse_identifier_refusals(kind: str, value: str, document_type: str | None) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_identifier(kind, value, document_type=document_type, on=TODAY)


def test_birth_date_bound_is_the_day_of_the_check() -> None:
    newborn = "110105202506010010"
    assert ric.is_valid(newborn)
    assert validate_id_number(newborn, on=date(2025, 6, 1)) == newborn
    with pytest.raises(InvalidIdentifier, match="birth date"):
        validate_id_number(newborn, on=date(2025, 5, 31))
