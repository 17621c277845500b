"""Art. 34: the indexes of credit archives.

* Natural persons: the 18-character citizen identity number of GB 11643-1999 — a 6-digit region
  code, an 8-digit birth date, a 3-digit sequence code (odd for men, even for women) and an
  ISO 7064 MOD 11-2 check character (``0-9`` or ``X``; ``X`` only in the last position).
  Plausibility checked here: the first two digits name a province-level division (including
  81/82/83, the residence permits of Hong Kong, Macao and Taiwan residents); the birth date is
  a real calendar date between 1900-01-01 and the day of the check. The county part of the
  region code is not looked up (codes change over time; residence permits use ``xx0000``).
* Legal persons and unincorporated organizations: the 18-character unified social credit code
  of GB 32100-2015 over the alphabet ``0-9A-HJ-NPQRTUWXY`` (31 characters): registration
  department and entity type (positions 1-2, from the alphabet: ``N2``, ``Y1`` exist), region
  code (positions 3-8, digits), organization code (9-17) and a check character with weights
  ``3**(i-1) mod 31``. python-stdnum requires digits in positions 1-2; that is the only
  difference between the two.
* Natural persons without an ID number (Art. 34 para. 2): another identity document, named by
  its type and number.

Identifiers are values: build them with :func:`parse_identifier`, which raises
:class:`~redaction.errors.InvalidIdentifier` and never echoes the rejected value. A value given
without its kind is classified by :func:`classify_identifier` by the two standards, never by its
shape alone: a code whose first 17 characters are digits (``91110000600037341L``) is a credit
code. About one valid ID number in 31 also satisfies the GB 32100 check; such a value is refused
as ambiguous, and the caller names its kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from redaction.errors import InvalidIdentifier

ID_NUMBER_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
ID_NUMBER_CHECK = "10X98765432"
PROVINCE_CODES = frozenset(
    {
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
    }
)
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

_ID_NUMBER_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_CREDIT_CODE_SHAPE = re.compile(
    rf"[{CREDIT_CODE_ALPHABET}]{{2}}[0-9]{{6}}[{CREDIT_CODE_ALPHABET}]{{10}}"
)


class SubjectKind(StrEnum):
    """Natural person, or legal person / unincorporated organization (Art. 3)."""

    NATURAL = "natural"
    LEGAL = "legal"


class IdentifierKind(StrEnum):
    ID_NUMBER = "id_number"
    CREDIT_CODE = "credit_code"
    OTHER_DOCUMENT = "other_document"


class OtherDocumentType(StrEnum):
    """Identity documents of natural persons who have no citizen ID number (Art. 34 para. 2)."""

    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence"


_DOCUMENT_SHAPES: dict[OtherDocumentType, re.Pattern[str]] = {
    OtherDocumentType.PASSPORT: re.compile(r"[A-Z0-9]{5,17}"),
    OtherDocumentType.HK_MACAO_PERMIT: re.compile(r"[HM][0-9]{8}(?:[0-9]{2})?"),
    OtherDocumentType.TAIWAN_PERMIT: re.compile(r"[0-9]{8}(?:[0-9]{2})?"),
    OtherDocumentType.FOREIGN_PERMANENT_RESIDENCE: re.compile(r"[A-Z]{3}[0-9]{12}|9[0-9]{17}"),
}


@dataclass(frozen=True, slots=True)
class SubjectIdentifier:
    """A validated archive index; ``value`` is normalized (upper case, no surrounding spaces)."""

    kind: IdentifierKind
    value: str
    document_type: OtherDocumentType | None = None

    @property
    def subject_kind(self) -> SubjectKind:
        if self.kind is IdentifierKind.CREDIT_CODE:
            return SubjectKind.LEGAL
        return SubjectKind.NATURAL

    @property
    def key(self) -> str:
        """Canonical text of the index, e.g. ``id_number:11010519491231002X``; one per subject."""
        if self.document_type is None:
            return f"{self.kind}:{self.value}"
        return f"{self.kind}:{self.document_type}:{self.value}"


def id_check_character(number: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of ``number``."""
    total = sum(
        int(digit) * weight for digit, weight in zip(number[:17], ID_NUMBER_WEIGHTS, strict=True)
    )
    return ID_NUMBER_CHECK[total % 11]


def credit_code_check_character(code: str) -> str:
    """The GB 32100 check character of the first 17 characters of ``code``."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(code[:17], CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[-total % 31]


def birth_date_of(number: str) -> date | None:
    """The calendar date in positions 7-14 of an ID number, or None if it is not a date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def resembles_id_number(candidate: str) -> bool:
    """Whether 18 characters have an ID number's shape, check character and a calendar date.

    A detector for masking free text (it masks more rather than less), not a validation.
    """
    return (
        _ID_NUMBER_SHAPE.fullmatch(candidate) is not None
        and id_check_character(candidate) == candidate[17]
        and birth_date_of(candidate) is not None
    )


def validate_id_number(value: str, *, on: date) -> str:
    """The normalized ID number, or raise :class:`InvalidIdentifier` (GB 11643-1999)."""
    number = value.strip().upper()
    if _ID_NUMBER_SHAPE.fullmatch(number) is None:
        raise InvalidIdentifier(
            "a citizen ID number is 17 digits and a check character (a digit, or X last)"
        )
    if number[:2] not in PROVINCE_CODES:
        raise InvalidIdentifier("the ID number's region code names no province-level division")
    birth_date = birth_date_of(number)
    if birth_date is None or not EARLIEST_BIRTH_DATE <= birth_date <= on:
        raise InvalidIdentifier("the ID number's birth date is not a plausible date")
    if id_check_character(number) != number[17]:
        raise InvalidIdentifier("the ID number's check character is wrong (ISO 7064 MOD 11-2)")
    return number


def validate_credit_code(value: str) -> str:
    """The normalized unified social credit code, or raise :class:`InvalidIdentifier`."""
    code = value.strip().upper()
    if _CREDIT_CODE_SHAPE.fullmatch(code) is None:
        raise InvalidIdentifier(
            "a unified social credit code is 18 characters of 0-9A-HJ-NPQRTUWXY, "
            "positions 3-8 digits"
        )
    if credit_code_check_character(code) != code[17]:
        raise InvalidIdentifier("the credit code's check character is wrong (GB 32100)")
    return code


def _validate_document(document_type: str | None, value: str) -> SubjectIdentifier:
    try:
        kind = OtherDocumentType(document_type or "")
    except ValueError:
        raise InvalidIdentifier("an other identity document needs a known document type") from None
    number = value.strip().upper()
    if _DOCUMENT_SHAPES[kind].fullmatch(number) is None:
        raise InvalidIdentifier(f"malformed {kind} number")
    return SubjectIdentifier(IdentifierKind.OTHER_DOCUMENT, number, kind)


def classify_identifier(value: str, *, on: date) -> SubjectIdentifier:
    """An ID number or a credit code, whichever standard ``value`` satisfies (Art. 34)."""
    found = [
        SubjectIdentifier(kind, number)
        for kind, number in (
            (IdentifierKind.ID_NUMBER, _valid_or_none(validate_id_number, value, on=on)),
            (IdentifierKind.CREDIT_CODE, _valid_or_none(validate_credit_code, value)),
        )
        if number is not None
    ]
    if len(found) > 1:
        raise InvalidIdentifier(
            "the value is both a valid ID number and a valid credit code: name its kind"
        )
    if not found:
        raise InvalidIdentifier(
            "neither a citizen ID number (GB 11643) nor a unified social credit code (GB 32100)"
        )
    return found[0]


def _valid_or_none(validate: Callable[..., str], value: str, **options: date) -> str | None:
    try:
        return validate(value, **options)
    except InvalidIdentifier:
        return None


@lru_cache(maxsize=4096)
def parse_identifier(
    kind: str, value: str, *, document_type: str | None = None, on: date
) -> SubjectIdentifier:
    """Validate an archive index of the given kind; ``on`` bounds the birth date of ID numbers.
    A pure function of its arguments, kept for the last indexes parsed in this process (in
    memory only): under load the same subjects are asked again and again, and the check
    characters' arithmetic cost about 2 % of an inquiry."""
    if kind == IdentifierKind.OTHER_DOCUMENT:
        return _validate_document(document_type, value)
    if document_type is not None:
        raise InvalidIdentifier("only other identity documents have a document type")
    if kind == IdentifierKind.ID_NUMBER:
        return SubjectIdentifier(IdentifierKind.ID_NUMBER, validate_id_number(value, on=on))
    if kind == IdentifierKind.CREDIT_CODE:
        return SubjectIdentifier(IdentifierKind.CREDIT_CODE, validate_credit_code(value))
    raise InvalidIdentifier("unknown identifier kind")
