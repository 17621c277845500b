"""Art. 34: an identifier given without its kind is classified by the standards, not by its
shape: a credit code if it is a valid GB 32100 code (python-stdnum's ``cn.uscc`` decides here),
an ID number if it is a valid GB 11643 number (decided by this test's own implementation,
written from the standard and independent of :mod:`redaction.identifiers`)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from stdnum.cn import uscc

from redaction.errors import InvalidIdentifier
from redaction.identifiers import IdentifierKind, classify_identifier
from tests.redaction.factories import TODAY
from tests.redaction.strategies import PROPERTY

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)


def gb11643_check(body: str) -> str:
    """GB 11643-1999 section 5.4: ISO 7064 MOD 11-2 over the 17 digits, weight 2**(18-i)."""
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(body))
    return "10X98765432"[total % 11]


def gb11643_valid(value: str) -> bool:
    """17 digits and the check character, a province-level region, a real birth date between
    1900-01-01 and the day of the check."""
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return False
    if value[17] not in "0123456789X" or value[:2] not in PROVINCES:
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= TODAY and gb11643_check(value[:17]) == value[17]


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(PROVINCES)))
    region = province + draw(st.text("0123456789", min_size=4, max_size=4))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    body = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + gb11643_check(body)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    """Valid codes; half of them with 17 leading digits (the case a length rule gets wrong)."""
    digits_only = draw(st.booleans())
    tail_alphabet = "0123456789" if digits_only else USCC_ALPHABET
    body = draw(st.text("0123456789", min_size=8, max_size=8)) + draw(
        st.text(tail_alphabet, min_size=9, max_size=9)
    )
    return body + uscc.calc_check_digit(body)


def corrupted(value: str, position: int, replacement: str) -> str:
    return value[:position] + replacement + value[position + 1 :]


def outcome(value: str) -> IdentifierKind | None:
    try:
        return classify_identifier(value, on=TODAY).kind
    except InvalidIdentifier:
        return None


def gb32100_valid(value: str) -> bool:
    """python-stdnum's verdict, except that GB 32100 lets positions 1-2 be letters of the
    alphabet too (registration departments ``N``, ``Y``), where python-stdnum wants digits:
    there its check character decides."""
    if value[:2].isdigit():
        return bool(uscc.is_valid(value))
    return (
        len(value) == 18
        and all(char in USCC_ALPHABET for char in value)
        and value[2:8].isdigit()
        and uscc.calc_check_digit(value[:17]) == value[17]
    )


def expected(value: str) -> IdentifierKind | None:
    """What the two standards say: one kind when exactly one accepts the value."""
    is_code, is_number = gb32100_valid(value), gb11643_valid(value)
    if is_code and not is_number:
        return IdentifierKind.CREDIT_CODE
    if is_number and not is_code:
        return IdentifierKind.ID_NUMBER
    return None


def test_published_credit_code_with_seventeen_leading_digits() -> None:
    found = classify_identifier("91110000600037341L", on=TODAY)
    assert (found.kind, found.value) == (IdentifierKind.CREDIT_CODE, "91110000600037341L")
    assert classify_identifier(" 11010519491231002x", on=TODAY).kind is IdentifierKind.ID_NUMBER


def test_a_value_valid_under_both_standards_is_refused_as_ambiguous() -> None:
    body = "11010519491231002"
    both = next(
        body[:14] + f"{n:03d}" + gb11643_check(body[:14] + f"{n:03d}")
        for n in range(1000)
        if uscc.is_valid(body[:14] + f"{n:03d}" + gb11643_check(body[:14] + f"{n:03d}"))
    )
    assert gb11643_valid(both)
    with pytest.raises(InvalidIdentifier, match="name its kind") as raised:
        classify_identifier(both, on=TODAY)
    assert both not in raised.value.detail


@PROPERTY
@given(id_numbers())
@example("11010519491231002X")
def test_valid_id_numbers(value: str) -> None:
    assert outcome(value) == expected(value)
    if not gb32100_valid(value):
        assert outcome(value) is IdentifierKind.ID_NUMBER


@PROPERTY
@given(credit_codes())
@example("91110000600037341L")
@example("91350100M000100Y43")
def test_valid_credit_codes(value: str) -> None:
    assert outcome(value) == expected(value)
    if not gb11643_valid(value):
        assert outcome(value) is IdentifierKind.CREDIT_CODE


@PROPERTY
@given(
    st.one_of(id_numbers(), credit_codes()),
    st.integers(0, 17),
    st.sampled_from(USCC_ALPHABET + "IOSVZ"),
)
def test_single_character_corruptions(value: str, position: int, replacement: str) -> None:
    assume(value[position] != replacement)
    altered = corrupted(value, position, replacement)
    assert outcome(altered) == expected(altered)
    # A single substitution never keeps a value valid under the standard it satisfied.
    assert not (gb32100_valid(value) and gb32100_valid(altered))
    assert not (gb11643_valid(value) and gb11643_valid(altered))


@PROPERTY
@given(st.text("0123456789X", min_size=18, max_size=18))
def test_arbitrary_values_follow_the_standards(value: str) -> None:
    assert outcome(value) == expected(value)
