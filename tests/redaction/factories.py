"""Small factories for the redaction tests: subjects, catalog items, records, submissions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache

from redaction.catalog import (
    Catalog,
    CatalogItem,
    Category,
    FieldSpec,
    FieldType,
    Ground,
    LocalizedName,
    ScopeCategory,
    Sector,
    Sensitivity,
    load_catalog,
)
from redaction.identifiers import SubjectIdentifier, SubjectKind, parse_identifier
from redaction.ingest import BasisDocument, BasisKind, RecordSubmission, SubjectReference
from redaction.periods import Period
from redaction.pseudonym import PseudonymKeys
from redaction.records import CreditRecord, RecordStatus

NOW = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)
TODAY = date(2025, 6, 1)
ID_NUMBER = "11010519491231002X"
CREDIT_CODE = "91350100M000100Y43"
KEYS = PseudonymKeys(b"k" * 32, 1)
ONE_YEAR = Period(years=1)
THREE_YEARS = Period(years=3)
PERSON_REFERENCE = SubjectReference("id_number", ID_NUMBER)


@cache
def demo_catalog() -> Catalog:
    return load_catalog()


def person() -> SubjectIdentifier:
    return parse_identifier("id_number", ID_NUMBER, on=TODAY)


def company() -> SubjectIdentifier:
    return parse_identifier("credit_code", CREDIT_CODE, on=TODAY)


def subject_of(kind: SubjectKind) -> SubjectIdentifier:
    return person() if kind is SubjectKind.NATURAL else company()


def make_item(
    code: str = "item",
    *,
    category: Category = Category.BASIC,
    sensitivity: Sensitivity = Sensitivity.ORDINARY,
    restricted_class: ScopeCategory | None = None,
    publicly_disclosed: bool = True,
    sharing_scope: frozenset[Sector] = frozenset({Sector.COURTS}),
    display_period: Period = ONE_YEAR,
    retention_period: Period = THREE_YEARS,
    applies_to: frozenset[SubjectKind] = frozenset(SubjectKind),
    fields: tuple[FieldSpec, ...] = (
        FieldSpec(name="note", type=FieldType.FREE_TEXT, personal=False),
    ),
) -> CatalogItem:
    return CatalogItem(
        code=code,
        name=LocalizedName(zh="测试信息", en="Test information"),
        category=category,
        sensitivity=sensitivity,
        restricted_class=restricted_class,
        publicly_disclosed=publicly_disclosed,
        sharing_scope=sharing_scope,
        display_period=display_period,
        retention_period=retention_period,
        legal_basis="《示范省社会信用条例》",
        applies_to=applies_to,
        fields=fields,
        ground=Ground.ADMINISTRATIVE_ACTIONS if category is Category.UNTRUSTWORTHY else None,
        designated_by=frozenset({Sector.MARKET_REGULATION})
        if category is Category.UNTRUSTWORTHY
        else frozenset(),
    )


def make_catalog(*items: CatalogItem) -> Catalog:
    return Catalog(
        catalog="test_catalog",
        version="test-1",
        title=LocalizedName(zh="测试目录", en="Test catalog"),
        items=items,
    )


def make_record(
    item_code: str,
    fields: Mapping[str, str],
    *,
    record_id: str = "r1",
    decided_on: date = date(2025, 1, 1),
    status: RecordStatus = RecordStatus.ACTIVE,
    under_objection: bool = False,
    history: tuple[CreditRecord, ...] = (),
) -> CreditRecord:
    return CreditRecord(
        record_id=record_id,
        item_code=item_code,
        version=len(history) + 1,
        fields=dict(fields),
        source="示范省市场监督管理局",
        occurred_on=decided_on,
        decided_on=decided_on,
        status=status,
        under_objection=under_objection,
        history=history,
    )


def basis() -> BasisDocument:
    return BasisDocument(
        BasisKind.ADMINISTRATIVE_DECISION, "示市监罚〔2025〕12号", "示范省市场监督管理局", TODAY
    )


def submission(
    item_code: str,
    fields: Mapping[str, object],
    *,
    subject: SubjectReference = PERSON_REFERENCE,
    basis_document: BasisDocument | None = None,
    written_consent_ref: str | None = None,
    occurred_on: date = date(2025, 1, 1),
    decided_on: date | None = None,
    corrected_on: date | None = None,
) -> RecordSubmission:
    return RecordSubmission(
        provider_record_id="prov-1",
        subject=subject,
        item_code=item_code,
        fields=fields,
        occurred_on=occurred_on,
        decided_on=decided_on,
        basis=basis_document,
        written_consent_ref=written_consent_ref,
        corrected_on=corrected_on,
    )
