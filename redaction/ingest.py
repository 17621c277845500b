"""Art. 26, 27, 31, 34, 35, 37, 62 and 65: validating a record a providing unit submits.

:func:`validate_submission` is pure: a :class:`RecordSubmission` is either accepted, as a
normalized :class:`AcceptedRecord` the gateway stores (assigning record id, version, source and
status), or refused with the first problem found, in this order:

1. the subject identifier is invalid (Art. 34, :class:`~redaction.errors.InvalidIdentifier`);
2. the item is not in the catalog, or does not apply to this kind of subject (Art. 35), or is
   information on untrustworthiness that the providing unit's sector does not designate
   (Art. 26 para. 1: the catalog's ``designated_by``);
3. a field name names a prohibited category (Art. 62 para. 1), then any field the item does not
   declare (Art. 35: nothing outside the catalog);
4. a screened field's content mentions a prohibited category (Art. 62 para. 1; see
   :meth:`~redaction.catalog.FieldSpec.prohibited_content` for which fields are screened);
5. a field value does not fit its declared type, or a required field is missing (Art. 37; a list
   of the seriously untrustworthy missing what Art. 31 has it carry - the prior notice's day,
   the end of the objection window, the removal conditions, the remedies, and the decision's
   day - or telling them out of order names Art. 31);
6. a restricted item comes without a written-consent reference (Art. 62 para. 2; the exception
   for state organs collecting in accordance with law is not modelled: such a unit gives the
   reference of its statutory authority);
7. an untrustworthiness item comes without its basis document (Art. 27) — kept with the record
   so that revoking the document can revoke the record (Art. 65);
8. a date lies after the day of receipt.

An accepted untrustworthiness record is flagged for lenient and cautious designation
(Art. 26 para. 2, :class:`Lenient`) when its subject was a minor over 16 on the day of the
conduct (the birth date is the ID number's) - the article's case is such a minor's conduct
brought on by force majeure, which the designating department judges -, or when the unit states
the conduct was slight, of minimal consequence, and corrected promptly: on or before the day
of the designation decision (``corrected_on``).

Field values are strings (amounts may also be integers); they are stored as normalized strings:
ID numbers and credit codes upper case, phone and card numbers without spaces, dates ISO 8601,
amounts as plain decimals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from problems.text import unreadable
from redaction.catalog import (
    SERIOUS_LIST_FIELDS,
    Catalog,
    CatalogItem,
    Category,
    FieldSpec,
    FieldType,
    ScopeCategory,
    Sector,
)
from redaction.errors import (
    BasisDocumentRequired,
    FieldNotInCatalog,
    InvalidFieldValue,
    InvalidIdentifier,
    ItemNotApplicable,
    NotDesignatedBySector,
    ProhibitedInformation,
    WrittenConsentRequired,
)
from redaction.identifiers import (
    IdentifierKind,
    SubjectIdentifier,
    SubjectKind,
    birth_date_of,
    parse_identifier,
    validate_credit_code,
    validate_id_number,
)
from redaction.masking import luhn_valid
from redaction.periods import local_date
from redaction.prohibited import find_prohibited

SERIOUS_LIST = "Art. 31"
LENIENT = "Art. 26 para. 2"
MINOR_FROM, ADULT_FROM = 16, 18


class Lenient(StrEnum):
    """Why an untrustworthiness record is to be designated and recorded leniently and
    cautiously (Art. 26 para. 2)."""

    MINOR_OVER_16 = "minor_over_16"
    SLIGHT_AND_CORRECTED = "slight_and_corrected"


class BasisKind(StrEnum):
    """The legally effective documents untrustworthiness is designated on (Art. 27)."""

    RULING = "ruling"
    ARBITRATION = "arbitration"
    ADMINISTRATIVE_DECISION = "administrative_decision"
    OTHER_LEGAL_DOCUMENT = "other_legal_document"


@dataclass(frozen=True, slots=True)
class BasisDocument:
    kind: BasisKind
    number: str
    issuer: str
    issued_on: date


@dataclass(frozen=True, slots=True)
class SubjectReference:
    """The subject identifier as submitted, before validation."""

    kind: str
    value: str
    document_type: str | None = None


@dataclass(frozen=True, slots=True)
class RecordSubmission:
    provider_record_id: str
    subject: SubjectReference
    item_code: str
    fields: Mapping[str, object]
    occurred_on: date
    decided_on: date | None = None
    basis: BasisDocument | None = None
    written_consent_ref: str | None = None
    corrected_on: date | None = None
    """Slight conduct of minimal consequence, corrected on this day (Art. 26 para. 2)."""


@dataclass(frozen=True, slots=True)
class AcceptedRecord:
    provider_record_id: str
    subject: SubjectIdentifier
    item_code: str
    scope_category: ScopeCategory
    fields: Mapping[str, str]
    occurred_on: date
    decided_on: date | None
    basis: BasisDocument | None
    written_consent_ref: str | None
    corrected_on: date | None = None
    lenient: frozenset[Lenient] = frozenset()


_TOKEN = re.compile(r"\S{1,128}")
_CODE = re.compile(r"\S{1,64}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MAX_AMOUNT = Decimal("1e15")


class _Unfit(Exception):
    """A value that does not fit its declared type; turned into InvalidFieldValue."""


def _line(limit: int) -> Callable[[str, date], str]:
    def normalize(value: str, _on: date) -> str:
        text = value.strip()
        if not 0 < len(text) <= limit or unreadable(text, single_line=True):
            raise _Unfit
        return text

    return normalize


def _free_text(value: str, _on: date) -> str:
    text = value.strip()
    if not 0 < len(text) <= 2000 or unreadable(text, single_line=False):
        raise _Unfit
    return text


def _id_number(value: str, on: date) -> str:
    try:
        return validate_id_number(value, on=on)
    except InvalidIdentifier:
        raise _Unfit from None


def _credit_code(value: str, _on: date) -> str:
    try:
        return validate_credit_code(value)
    except InvalidIdentifier:
        raise _Unfit from None


def _phone(value: str, _on: date) -> str:
    phone = re.sub(r"\s", "", value)
    if _MOBILE.fullmatch(phone) is None and _LANDLINE.fullmatch(phone) is None:
        raise _Unfit
    return phone


def _bank_card(value: str, _on: date) -> str:
    card = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"[0-9]{12,19}", card) or not luhn_valid(card):
        raise _Unfit
    return card


def _date(value: str, _on: date) -> str:
    text = value.strip()
    if _ISO_DATE.fullmatch(text) is None:
        raise _Unfit
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise _Unfit from None


def _amount(value: str, _on: date) -> str:
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        raise _Unfit from None
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -4 or not 0 <= amount < _MAX_AMOUNT:
        raise _Unfit
    return format(amount, "f")


def _code(value: str, _on: date) -> str:
    if _CODE.fullmatch(value.strip()) is None:
        raise _Unfit
    return value.strip()


_NORMALIZERS: dict[FieldType, Callable[[str, date], str]] = {
    FieldType.NAME: _line(64),
    FieldType.ID_NUMBER: _id_number,
    FieldType.CREDIT_CODE: _credit_code,
    FieldType.PHONE: _phone,
    FieldType.BANK_CARD: _bank_card,
    FieldType.ADDRESS: _line(200),
    FieldType.FREE_TEXT: _free_text,
    FieldType.DATE: _date,
    FieldType.AMOUNT: _amount,
    FieldType.STRING: _line(200),
    FieldType.CODE: _code,
}


def _as_text(spec: FieldSpec, value: object) -> str:
    if isinstance(value, str):
        return value
    if spec.type is FieldType.AMOUNT and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidFieldValue(f"field '{spec.name}' must be a string")


def _normalized(spec: FieldSpec, value: object, on: date) -> str:
    try:
        return _NORMALIZERS[spec.type](_as_text(spec, value), on)
    except _Unfit:
        raise InvalidFieldValue(f"field '{spec.name}' is not a valid {spec.type}") from None


def _declared_fields(item: CatalogItem, fields: Mapping[str, object]) -> list[FieldSpec]:
    for name in fields:
        category = find_prohibited(name)
        if category is not None:
            raise ProhibitedInformation(f"a field names {category} information")
    specs = [item.field(name) for name in fields]
    if None in specs:
        raise FieldNotInCatalog(f"item '{item.code}' declares only its catalog fields")
    return [spec for spec in specs if spec is not None]


def _screen(specs: list[FieldSpec], fields: Mapping[str, object], kind: SubjectKind) -> None:
    for spec in specs:
        value = fields[spec.name]
        category = spec.prohibited_content(value, kind) if isinstance(value, str) else None
        if category is not None:
            raise ProhibitedInformation(f"field '{spec.name}' mentions {category} information")


def _checked_fields(
    item: CatalogItem, fields: Mapping[str, object], kind: SubjectKind, on: date
) -> dict[str, str]:
    specs = _declared_fields(item, fields)
    _screen(specs, fields, kind)
    missing = [spec.name for spec in item.fields if spec.required and spec.name not in fields]
    if missing:
        article = (
            SERIOUS_LIST
            if item.serious_list and set(missing) & SERIOUS_LIST_FIELDS.keys()
            else None
        )
        raise InvalidFieldValue(
            f"item '{item.code}' requires the fields {', '.join(missing)}", article=article
        )
    return {spec.name: _normalized(spec, fields[spec.name], on) for spec in specs}


def _checked_consent(item: CatalogItem, written_consent_ref: str | None) -> str | None:
    reference = (written_consent_ref or "").strip() or None
    if item.restricted and reference is None:
        raise WrittenConsentRequired(
            f"item '{item.code}' is collected only with the subject's written consent"
        )
    return reference


def _checked_basis(item: CatalogItem, basis: BasisDocument | None) -> BasisDocument | None:
    if basis is None:
        if item.category is Category.UNTRUSTWORTHY:
            raise BasisDocumentRequired(f"item '{item.code}' needs its basis document")
        return None
    number, issuer = basis.number.strip(), basis.issuer.strip()
    one_line = not unreadable(number + issuer, single_line=True)
    if not (0 < len(number) <= 128 and 0 < len(issuer) <= 200 and one_line):
        raise BasisDocumentRequired("a basis document has a number and an issuer")
    return BasisDocument(basis.kind, number, issuer, basis.issued_on)


def _check_dates(submission: RecordSubmission, on: date) -> None:
    dates = [submission.occurred_on, submission.decided_on, submission.corrected_on]
    if submission.basis is not None:
        dates.append(submission.basis.issued_on)
    if any(day is not None and day > on for day in dates):
        raise InvalidFieldValue("a record's dates cannot lie after the day it is received")


def _check_designated(item: CatalogItem, sector: Sector | None) -> None:
    if item.category is Category.UNTRUSTWORTHY and sector not in item.designated_by:
        raise NotDesignatedBySector(
            f"item '{item.code}' is designated by the departments of "
            f"{', '.join(sorted(item.designated_by))} only"
        )


def _check_listing(item: CatalogItem, fields: Mapping[str, str], decided_on: date | None) -> None:
    """A listing as seriously untrustworthy: told beforehand, then the objection window, then
    the decision (Art. 31)."""
    if not item.serious_list:
        return
    notified = date.fromisoformat(fields["notified_on"])
    window_ends = date.fromisoformat(fields["objection_window_ends_on"])
    if decided_on is None or not notified <= window_ends <= decided_on:
        raise InvalidFieldValue(
            "a listing is decided after the party was told and its objection window ended",
            article=SERIOUS_LIST,
        )


def _lenient(
    item: CatalogItem, subject: SubjectIdentifier, submission: RecordSubmission
) -> frozenset[Lenient]:
    if item.category is not Category.UNTRUSTWORTHY:
        if submission.corrected_on is not None:
            raise InvalidFieldValue(
                "only untrustworthy conduct is corrected (corrected_on)", article=LENIENT
            )
        return frozenset()
    flags = set()
    born = birth_date_of(subject.value) if subject.kind is IdentifierKind.ID_NUMBER else None
    if born is not None and MINOR_FROM <= _age(born, submission.occurred_on) < ADULT_FROM:
        flags.add(Lenient.MINOR_OVER_16)
    corrected = submission.corrected_on
    if corrected is not None:
        if corrected < submission.occurred_on:
            raise InvalidFieldValue("conduct is corrected after it occurred", article=LENIENT)
        if submission.decided_on is None or corrected <= submission.decided_on:
            flags.add(Lenient.SLIGHT_AND_CORRECTED)
    return frozenset(flags)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def validate_submission(
    submission: RecordSubmission,
    catalog: Catalog,
    *,
    received_at: datetime,
    sector: Sector | None,
) -> AcceptedRecord:
    """Accept a submission of a providing unit of ``sector`` as a normalized record, or raise
    the first problem (see module)."""
    on = local_date(received_at)
    reference = submission.subject
    subject = parse_identifier(
        reference.kind, reference.value, document_type=reference.document_type, on=on
    )
    item = catalog.item(submission.item_code)
    if subject.subject_kind not in item.applies_to:
        raise ItemNotApplicable(f"item '{item.code}' does not apply to {subject.subject_kind}")
    _check_designated(item, sector)
    fields = _checked_fields(item, submission.fields, subject.subject_kind, on)
    _check_listing(item, fields, submission.decided_on)
    written_consent_ref = _checked_consent(item, submission.written_consent_ref)
    basis = _checked_basis(item, submission.basis)
    _check_dates(submission, on)
    lenient = _lenient(item, subject, submission)
    if _TOKEN.fullmatch(submission.provider_record_id) is None:
        raise InvalidFieldValue("provider_record_id is 1 to 128 characters without spaces")
    return AcceptedRecord(
        provider_record_id=submission.provider_record_id,
        subject=subject,
        item_code=item.code,
        scope_category=item.scope_category,
        fields=fields,
        occurred_on=submission.occurred_on,
        decided_on=submission.decided_on,
        basis=basis,
        written_consent_ref=written_consent_ref,
        corrected_on=submission.corrected_on,
        lenient=lenient,
    )
