"""Art. 27, 34, 35, 37, 62: accepting or refusing a providing unit's record."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from problems import GatewayError
from redaction.catalog import FieldSpec, FieldType, ScopeCategory, Sector
from redaction.errors import (
    BasisDocumentRequired,
    FieldNotInCatalog,
    InvalidFieldValue,
    InvalidIdentifier,
    ItemNotApplicable,
    ItemNotInCatalog,
    NotDesignatedBySector,
    ProhibitedInformation,
    WrittenConsentRequired,
)
from redaction.identifiers import SubjectKind, id_check_character
from redaction.ingest import (
    AcceptedRecord,
    BasisDocument,
    BasisKind,
    Lenient,
    RecordSubmission,
    SubjectReference,
    validate_submission,
)
from tests.redaction.factories import (
    CREDIT_CODE,
    ID_NUMBER,
    NOW,
    basis,
    demo_catalog,
    make_catalog,
    make_item,
    submission,
)
from tests.redaction.strategies import PROHIBITED_SAMPLES, PROPERTY

PENALTY = {
    "decision_number": "示市监罚〔2025〕12号",
    "penalty_authority": "示范省市场监督管理局",
    "violation": "未按规定公示年度报告",
    "penalty_content": "警告",
}
COMPANY = SubjectReference("credit_code", CREDIT_CODE)
SECTOR = Sector.MARKET_REGULATION


def _accept(record: RecordSubmission) -> AcceptedRecord:
    return validate_submission(record, demo_catalog(), received_at=NOW, sector=SECTOR)


def _refusal(record: RecordSubmission) -> GatewayError:
    with pytest.raises(GatewayError) as raised:
        _accept(record)
    assert ID_NUMBER not in raised.value.detail
    return raised.value


def test_an_untrustworthiness_record_is_accepted_and_normalized() -> None:
    accepted = _accept(
        submission(
            "administrative_penalty",
            {**PENALTY, "fine_amount": 5000, "violation": "  未按规定公示年度报告 "},
            subject=COMPANY,
            basis_document=basis(),
        )
    )
    assert accepted.subject.key == f"credit_code:{CREDIT_CODE}"
    assert accepted.scope_category is ScopeCategory.UNTRUSTWORTHY
    assert accepted.fields["fine_amount"] == "5000"
    assert accepted.fields["violation"] == "未按规定公示年度报告"
    assert accepted.basis == basis()


def test_restricted_record_with_written_consent() -> None:
    accepted = _accept(
        submission(
            "savings_deposits",
            {
                "bank_name": "示范银行",
                "account_number": "6222 0212 3456 7890 128",
                "balance": "1000.5",
                "as_of": "2025-05-31",
            },
            written_consent_ref="wc-2025-0001",
        )
    )
    assert accepted.fields["account_number"] == "6222021234567890128"
    assert accepted.written_consent_ref == "wc-2025-0001"
    assert accepted.scope_category is ScopeCategory.SAVINGS


@pytest.mark.parametrize(
    ("record", "error", "article"),
    [
        (
            submission(
                "administrative_penalty",
                PENALTY,
                subject=SubjectReference("id_number", "110105194912310021"),
            ),
            InvalidIdentifier,
            "Art. 34",
        ),
        (submission("religious_affiliation", {}), ItemNotInCatalog, "Art. 35"),
        (submission("wage_arrears", {}), ItemNotApplicable, "Art. 35"),
        (
            submission(
                "administrative_penalty", {**PENALTY, "blood_type": "A"}, basis_document=basis()
            ),
            ProhibitedInformation,
            "Art. 62 para. 1",
        ),
        (
            submission(
                "administrative_penalty", {**PENALTY, "remarks": "-"}, basis_document=basis()
            ),
            FieldNotInCatalog,
            "Art. 35",
        ),
        (
            submission(
                "administrative_penalty",
                {**PENALTY, "violation": "隐瞒既往病史骗取保险金"},
                basis_document=basis(),
            ),
            ProhibitedInformation,
            "Art. 62 para. 1",
        ),
        (
            submission(
                "personal_income",
                {"employer": "示范公司", "annual_income": "1", "income_year": "2024"},
            ),
            WrittenConsentRequired,
            "Art. 62 para. 2",
        ),
        (
            submission(
                "personal_income",
                {"employer": "示范公司", "annual_income": "1", "income_year": "2024"},
                written_consent_ref="  ",
            ),
            WrittenConsentRequired,
            "Art. 62 para. 2",
        ),
        (submission("administrative_penalty", PENALTY), BasisDocumentRequired, "Art. 27"),
        (
            submission(
                "administrative_penalty",
                PENALTY,
                basis_document=BasisDocument(BasisKind.RULING, " ", "法院", date(2025, 1, 1)),
            ),
            BasisDocumentRequired,
            "Art. 27",
        ),
        (
            submission("administrative_penalty", {"decision_number": "1"}, basis_document=basis()),
            InvalidFieldValue,
            "Art. 37",
        ),
        (
            submission(
                "administrative_penalty",
                PENALTY,
                basis_document=basis(),
                occurred_on=date(2025, 6, 2),
            ),
            InvalidFieldValue,
            "Art. 37",
        ),
    ],
)
def test_refusals_name_their_article(
    record: RecordSubmission, error: type[GatewayError], article: str
) -> None:
    refusal = _refusal(record)
    assert isinstance(refusal, error)
    assert refusal.to_problem()["article"] == article


def test_prohibited_content_of_legal_persons_is_screened_only_in_personal_fields() -> None:
    accepted = _accept(
        submission(
            "enterprise_registration",
            {
                "entity_name": "示范基因科技有限公司",
                "credit_code": CREDIT_CODE,
                "legal_representative": "张三",
                "registered_address": "示范省江城市玄武区中山路1号",
                "registered_capital": "1000000",
                "established_on": "2010-01-01",
                "business_scope": "基因测序技术服务；医疗诊断试剂研发",
            },
            subject=COMPANY,
        )
    )
    assert accepted.fields["business_scope"].startswith("基因测序")


@pytest.mark.parametrize(
    ("field_type", "value", "normalized"),
    [
        (FieldType.NAME, " 张三 ", "张三"),
        (FieldType.ID_NUMBER, "11010519491231002x", "11010519491231002X"),
        (FieldType.CREDIT_CODE, "91350100m000100y43", "91350100M000100Y43"),
        (FieldType.PHONE, "138 1234 5678", "13812345678"),
        (FieldType.PHONE, "025-84321234", "025-84321234"),
        (FieldType.BANK_CARD, "6222-0212-3456-7890-128", "6222021234567890128"),
        (FieldType.DATE, "2024-02-29", "2024-02-29"),
        (FieldType.AMOUNT, "1e3", "1000"),
        (FieldType.AMOUNT, "12.3456", "12.3456"),
        (FieldType.CODE, "（2024）示0102执123号", "（2024）示0102执123号"),
        (FieldType.FREE_TEXT, "第一行\n第二行", "第一行\n第二行"),
    ],
)
def test_values_are_normalized_by_type(field_type: FieldType, value: str, normalized: str) -> None:
    assert _typed(field_type, value).fields["value"] == normalized


@pytest.mark.parametrize(
    ("field_type", "value"),
    [
        (FieldType.NAME, ""),
        (FieldType.NAME, "张\n三"),
        (FieldType.ID_NUMBER, "110105194912310021"),
        (FieldType.CREDIT_CODE, "91350100M000100Y44"),
        (FieldType.PHONE, "12345"),
        (FieldType.BANK_CARD, "6222021234567890127"),
        (FieldType.DATE, "2024-02-30"),
        (FieldType.DATE, "20240201"),
        (FieldType.AMOUNT, "-1"),
        (FieldType.AMOUNT, "NaN"),
        (FieldType.AMOUNT, "1.00001"),
        (FieldType.AMOUNT, "ten"),
        (FieldType.CODE, "a b"),
        (FieldType.STRING, 12),
        (FieldType.AMOUNT, True),
        (FieldType.FREE_TEXT, "x" * 2001),
    ],
)
def test_values_that_do_not_fit_their_type(field_type: FieldType, value: object) -> None:
    with pytest.raises(InvalidFieldValue) as raised:
        _typed(field_type, value)
    assert raised.value.to_problem()["article"] == "Art. 37"


def _typed(field_type: FieldType, value: object) -> AcceptedRecord:
    personal = field_type is FieldType.ID_NUMBER
    item = make_item(fields=(FieldSpec(name="value", type=field_type, personal=personal),))
    return validate_submission(
        submission("item", {"value": value}), make_catalog(item), received_at=NOW, sector=SECTOR
    )


def test_provider_record_ids_are_tokens() -> None:
    record = submission(
        "honour_award",
        {"honour_title": "示范", "awarding_body": "示范", "awarded_on": "2024-01-01"},
    )
    bad = RecordSubmission(
        "has space", record.subject, record.item_code, record.fields, record.occurred_on
    )
    with pytest.raises(InvalidFieldValue, match="provider_record_id"):
        _accept(bad)


screened_types = st.sampled_from([FieldType.FREE_TEXT, FieldType.STRING])


@PROPERTY
@given(
    screened_types,
    st.sampled_from(SubjectKind),
    st.booleans(),
    st.text("的是了 ，。abc", max_size=8),
    st.sampled_from(PROHIBITED_SAMPLES),
)
def test_prohibited_values_are_never_accepted(
    field_type: FieldType, kind: SubjectKind, personal: bool, around: str, term: str
) -> None:
    item = make_item(fields=(FieldSpec(name="value", type=field_type, personal=personal),))
    subject = SubjectReference("id_number", ID_NUMBER) if kind is SubjectKind.NATURAL else COMPANY
    record = submission("item", {"value": f"{around} {term} {around}"}, subject=subject)
    screened = kind is SubjectKind.NATURAL or personal
    try:
        accepted = validate_submission(record, make_catalog(item), received_at=NOW, sector=SECTOR)
    except ProhibitedInformation:
        assert screened
    else:
        assert not screened
        assert term in accepted.fields["value"]


def test_amounts_keep_their_precision() -> None:
    assert Decimal(_typed(FieldType.AMOUNT, "0.1").fields["value"]) == Decimal("0.1")


def _id_number(born: str) -> str:
    body = f"110105{born}013"
    return body + id_check_character(body)


def _penalty(**changes: Any) -> RecordSubmission:
    return submission(
        "administrative_penalty",
        PENALTY,
        basis_document=basis(),
        **{"occurred_on": date(2025, 3, 1), "decided_on": date(2025, 3, 20), **changes},
    )


@pytest.mark.parametrize("sector", [Sector.COURTS, None])
def test_art_26_a_providing_unit_submits_only_items_its_sector_designates(
    sector: Sector | None,
) -> None:
    with pytest.raises(NotDesignatedBySector) as refused:
        validate_submission(_penalty(), demo_catalog(), received_at=NOW, sector=sector)
    assert refused.value.to_problem()["article"] == "Art. 26 para. 1"
    honour = submission(
        "honour_award",
        {"honour_title": "示范", "awarding_body": "示范", "awarded_on": "2024-01-01"},
    )
    assert validate_submission(honour, demo_catalog(), received_at=NOW, sector=sector)


@pytest.mark.parametrize(
    ("born", "flagged"),
    [
        ("20090302", False),  # 15 years and 364 days on the day of the conduct
        ("20090301", True),  # 16 that day
        ("20070302", True),  # 17 years and 364 days
        ("20070301", False),  # 18 that day
    ],
)
def test_art_26_conduct_of_a_minor_over_16_is_flagged_for_lenient_designation(
    born: str, flagged: bool
) -> None:
    minor = SubjectReference("id_number", _id_number(born))
    accepted = _accept(_penalty(subject=minor, occurred_on=date(2025, 3, 1)))
    assert (Lenient.MINOR_OVER_16 in accepted.lenient) is flagged
    assert _accept(_penalty(subject=COMPANY)).lenient == frozenset()


def test_art_26_slight_promptly_corrected_conduct_is_flagged_for_lenient_designation() -> None:
    prompt = _accept(_penalty(corrected_on=date(2025, 3, 10)))
    assert prompt.lenient == {Lenient.SLIGHT_AND_CORRECTED}
    assert prompt.corrected_on == date(2025, 3, 10)
    assert _accept(_penalty(corrected_on=date(2025, 4, 1))).lenient == frozenset()  # too late
    assert _accept(_penalty()).lenient == frozenset()
    for refused in (
        _penalty(corrected_on=date(2025, 2, 1)),  # before the conduct
        submission(
            "honour_award",
            {"honour_title": "示范", "awarding_body": "示范", "awarded_on": "2024-01-01"},
            corrected_on=date(2025, 1, 2),
        ),
    ):
        assert _refusal(refused).to_problem()["article"] == "Art. 26 para. 2"


LISTING = {
    "list_name": "严重违法失信名单",
    "listing_authority": "示范市市场监督管理局",
    "decision_number": "示市监列〔2025〕3号",
    "listing_reason": "提供虚假材料骗取登记",
    "notified_on": "2025-02-01",
    "objection_window_ends_on": "2025-02-15",
    "removal_conditions": "信息公示期满三年且已履行义务，可申请移出",
    "remedies": "可依法申请行政复议或者提起行政诉讼",
}


def _listing(**changes: Any) -> RecordSubmission:
    fields = {key: value for key, value in {**LISTING, **changes}.items() if value is not None}
    return submission(
        "serious_untrustworthy_list",
        fields,
        basis_document=basis(),
        occurred_on=date(2025, 1, 10),
        decided_on=date(2025, 2, 20),
    )


def test_art_31_a_listing_carries_notice_window_removal_conditions_and_remedies() -> None:
    accepted = _accept(_listing())
    assert accepted.fields["remedies"] == LISTING["remedies"]
    for missing in ("notified_on", "objection_window_ends_on", "removal_conditions", "remedies"):
        refusal = _refusal(_listing(**{missing: None}))
        assert isinstance(refusal, InvalidFieldValue)
        assert refusal.to_problem()["article"] == "Art. 31", missing
    for disorder in (
        {"objection_window_ends_on": "2025-01-20", "notified_on": "2025-02-01"},  # window first
        {"objection_window_ends_on": "2025-03-01"},  # decided before the window ended
    ):
        assert _refusal(_listing(**disorder)).to_problem()["article"] == "Art. 31"
    undecided = replace(_listing(), decided_on=None)
    assert _refusal(undecided).to_problem()["article"] == "Art. 31"
