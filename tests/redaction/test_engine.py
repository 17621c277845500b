"""Art. 39-41, 62-66: what each channel sees of a subject's records, and why."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

import pytest

from redaction.catalog import (
    RESTRICTED_CATEGORIES,
    Catalog,
    FieldSpec,
    FieldType,
    ScopeCategory,
    Sector,
)
from redaction.demo import SAMPLE_VALUES
from redaction.engine import Action, CreditView, Label, credit_report, render_view
from redaction.errors import InvalidScope, InvalidTimestamp
from redaction.identifiers import SubjectIdentifier, SubjectKind
from redaction.periods import Period
from redaction.policies import Access, Channel, Reason
from redaction.records import CreditRecord, RecordStatus
from tests.redaction.factories import (
    CREDIT_CODE,
    ID_NUMBER,
    KEYS,
    NOW,
    company,
    demo_catalog,
    make_catalog,
    make_item,
    make_record,
    person,
)

S = ScopeCategory


def _sample(
    code: str,
    record_id: str = "r1",
    *,
    status: RecordStatus = RecordStatus.ACTIVE,
    under_objection: bool = False,
) -> CreditRecord:
    item = demo_catalog().item(code)
    fields = {spec.name: SAMPLE_VALUES[spec.type] for spec in item.fields}
    return make_record(
        code, fields, record_id=record_id, status=status, under_objection=under_objection
    )


def _view(
    records: Sequence[CreditRecord],
    access: Access,
    catalog: Catalog | None = None,
    at: datetime = NOW,
) -> CreditView:
    return render_view(
        records, access=access, catalog=catalog or demo_catalog(), at=at, pseudonym_keys=KEYS
    )


def _served(view: CreditView) -> dict[str, dict[str, str]]:
    return {item.record_id: item.fields for item in view.items}


def _reasons(view: CreditView) -> dict[tuple[str | None, str | None], Reason]:
    return {(entry.record_id, entry.field): entry.reason for entry in view.redactions}


PERSON_RECORDS = (
    _sample("natural_person_identity", "identity"),
    _sample("administrative_penalty", "penalty"),
    _sample("professional_qualification", "qualification"),
    _sample("personal_income", "income"),
    _sample("real_estate", "house"),
)


def test_public_view_masks_personal_data_and_pseudonymizes_the_subject() -> None:
    view = _view(PERSON_RECORDS, Access.public("anyone", person()))
    assert set(_served(view)) == {"penalty", "qualification"}
    assert _served(view)["qualification"]["holder_name"] == "张**"
    assert _served(view)["qualification"]["certificate_number"] == "****"
    assert "138****5678" in _served(view)["penalty"]["violation"]
    assert view.subject_ref == KEYS.pseudonym("anyone", person().key)
    reasons = _reasons(view)
    assert reasons[("identity", None)] is Reason.NOT_PUBLICLY_DISCLOSED
    assert reasons[("income", None)] is Reason.NOT_PUBLICLY_DISCLOSED
    assert reasons[("qualification", "holder_name")] is Reason.PERSONAL_DATA
    assert reasons[(None, "subject")] is Reason.SUBJECT_PSEUDONYMIZED
    document = json.dumps(view.to_document(), ensure_ascii=False)
    assert ID_NUMBER not in document
    assert "13812345678" not in document
    assert "identity" not in document  # a withheld record's existence is not told
    assert all(not entry.whole_record for entry in view.requester_redactions())


def test_legal_persons_data_is_not_masked() -> None:
    records = [_sample("enterprise_registration", legal_fields := "reg")]
    view = _view(records, Access.public("anyone", company()))
    fields = _served(view)[legal_fields]
    assert fields["credit_code"] == SAMPLE_VALUES[FieldType.CREDIT_CODE]
    assert fields["entity_name"] == SAMPLE_VALUES[FieldType.STRING]
    assert fields["legal_representative"] == "张**"
    assert view.subject_ref == f"credit_code:{CREDIT_CODE}"


def test_sharing_follows_the_sector_scope() -> None:
    records = [*PERSON_RECORDS, _sample("commercial_insurance", "insurance")]
    courts = _view(records, Access.sharing("court-1", person(), Sector.COURTS))
    finance = _view(records, Access.sharing("cbirc-1", person(), Sector.FINANCE_REGULATION))
    assert set(_served(courts)) == {"identity", "penalty"}
    assert set(_served(finance)) == {"penalty", "insurance"}
    assert _reasons(finance)[("house", None)] is Reason.OUTSIDE_SHARING_SCOPE
    assert _served(courts)["identity"]["id_number"] == ID_NUMBER


def test_authority_never_gets_real_estate_or_tax() -> None:
    legal_basis = frozenset({S.BASIC, S.INCOME, S.REAL_ESTATE})
    view = _view(PERSON_RECORDS, Access.authority("police-1", person(), legal_basis))
    assert set(_served(view)) == {"identity", "qualification", "income"}
    house = next(entry for entry in view.redactions if entry.record_id == "house")
    assert (house.reason, house.article) == (Reason.PROPERTY_TAX_SUBJECT_ONLY, "Art. 62 para. 3")
    assert _reasons(view)[("penalty", None)] is Reason.OUTSIDE_LEGAL_BASIS


def test_authorized_restricted_categories_need_written_consent() -> None:
    granted = frozenset({S.UNTRUSTWORTHY, S.INCOME, S.REAL_ESTATE})
    without = _view(PERSON_RECORDS, Access.authorized("bank-1", person(), granted))
    with_consent = _view(
        PERSON_RECORDS,
        Access.authorized("bank-1", person(), granted, frozenset({S.INCOME, S.REAL_ESTATE})),
    )
    assert set(_served(without)) == {"penalty"}
    assert _reasons(without)[("income", None)] is Reason.WRITTEN_CONSENT_MISSING
    assert _reasons(without)[("identity", None)] is Reason.OUTSIDE_CONSENT
    assert set(_served(with_consent)) == {"penalty", "income", "house"}
    assert _served(with_consent)["house"]["property_address"] == SAMPLE_VALUES[FieldType.ADDRESS]


def test_self_sees_everything_held_with_history_and_labels() -> None:
    first = _sample("administrative_penalty", "penalty")
    revised = replace(first, version=2, change_reason="复核更正", history=(first,))
    records = [
        *PERSON_RECORDS[2:],
        replace(revised, status=RecordStatus.REVOKED),
        _sample("tax_arrears", "restored", status=RecordStatus.RESTORED),
        _sample("false_materials", "deleted", status=RecordStatus.DELETED),
    ]
    view = _view(records, Access.own("citizen-1", person()))
    items = {item.record_id: item for item in view.items}
    assert set(items) == {"qualification", "income", "house", "penalty", "restored"}
    assert items["penalty"].labels == {Label.REVOKED}
    assert items["penalty"].change_reason == "复核更正"
    assert [version.version for version in items["penalty"].history] == [1]
    assert items["restored"].labels == {Label.RESTORED}
    assert items["qualification"].fields["holder_name"] == SAMPLE_VALUES[FieldType.NAME]
    assert view.requester_redactions() == view.redactions
    assert _reasons(view)[("deleted", None)] is Reason.DELETED


def test_history_is_for_the_subject_only() -> None:
    first = _sample("administrative_penalty", "penalty")
    revised = replace(first, version=2, change_reason="复核更正", history=(first,))
    view = _view([revised], Access.public("anyone", person()))
    (item,) = view.items
    assert (item.version, item.history, item.change_reason) == (2, (), None)
    withheld = [entry for entry in view.redactions if entry.reason is Reason.HISTORY_SELF_ONLY]
    assert [(entry.version, entry.action) for entry in withheld] == [(1, Action.WITHHELD)]


@pytest.mark.parametrize(
    ("status", "served_in"),
    [
        (RecordStatus.REVOKED, {Channel.SELF}),
        (RecordStatus.RESTORED, {Channel.SELF, Channel.AUTHORITY}),
        (RecordStatus.DELETED, set()),
        (RecordStatus.ACTIVE, set(Channel)),
    ],
)
def test_status_decides_the_channels(status: RecordStatus, served_in: set[Channel]) -> None:
    record = _sample("dishonest_judgment_debtor", "debtor", status=status)
    served = {access.channel for access in _every_access(person()) if _view([record], access).items}
    assert served == served_in


def _every_access(subject: SubjectIdentifier) -> list[Access]:
    every = frozenset(ScopeCategory)
    return [
        Access.public("anyone", subject),
        Access.sharing("court-1", subject, Sector.COURTS),
        Access.authority("police-1", subject, every),
        Access.own("citizen-1", subject),
        Access.authorized("bank-1", subject, every, RESTRICTED_CATEGORIES),
    ]


PERIOD_ITEM = make_item(
    "penalty",
    display_period=Period(years=1),
    retention_period=Period(years=2),
    sharing_scope=frozenset(Sector),
)


@pytest.mark.parametrize(
    ("decided_on", "served_in"),
    [
        (date(2024, 6, 2), set(Channel)),
        (date(2024, 6, 1), {Channel.SHARING, Channel.AUTHORITY, Channel.SELF}),
        (date(2023, 6, 1), set()),
    ],
)
def test_display_and_retention_periods(decided_on: date, served_in: set[Channel]) -> None:
    record = make_record("penalty", {"note": "逾期"}, decided_on=decided_on)
    catalog = make_catalog(PERIOD_ITEM)
    served = {
        access.channel
        for access in _every_access(person())
        if _view([record], access, catalog).items
    }
    assert served == served_in


def test_objections_are_labelled_in_every_view() -> None:
    record = _sample("dishonest_judgment_debtor", "debtor", under_objection=True)
    for access in _every_access(person()):
        (item,) = _view([record], access).items
        assert Label.UNDER_OBJECTION in item.labels


def test_nothing_outside_the_catalog_is_served() -> None:
    records = [
        make_record("religious_affiliation", {"note": "x"}, record_id="unknown"),
        replace(_sample("honour_award", "award"), fields={"honour_title": "示范", "remark": "x"}),
        _sample("wage_arrears", "wrong-kind"),
    ]
    view = _view(records, Access.own("citizen-1", person()))
    assert _served(view) == {"award": {"honour_title": "示范"}}
    reasons = _reasons(view)
    assert reasons[("unknown", None)] is Reason.NOT_IN_CATALOG
    assert reasons[("award", "remark")] is Reason.FIELD_NOT_IN_CATALOG
    assert reasons[("wrong-kind", None)] is Reason.NOT_APPLICABLE


def test_prohibited_content_is_withheld_even_from_the_subject() -> None:
    item = make_item(
        fields=(
            FieldSpec(name="note", type=FieldType.FREE_TEXT, personal=False),
            FieldSpec(name="label", type=FieldType.NAME, personal=True),
        )
    )
    record = make_record("item", {"note": "当事人血型为A型", "label": "王信仰"})
    catalog = make_catalog(item)
    own = _view([record], Access.own("citizen-1", person()), catalog)
    assert _served(own) == {"r1": {"label": "王信仰"}}
    entry = next(entry for entry in own.redactions if entry.field == "note")
    assert (entry.reason, entry.article) == (Reason.PROHIBITED_CONTENT, "Art. 62 para. 1")
    company_view = _view([record], Access.own("company-1", company()), catalog)
    assert _served(company_view)["r1"]["note"] == "当事人血型为A型"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Access(Channel.SHARING, "agency", person()),
        lambda: Access.authority("agency", person(), frozenset()),
        lambda: Access.authorized("bank", person(), frozenset()),
        lambda: Access.authorized("bank", person(), frozenset({S.BASIC}), frozenset({S.INCOME})),
        lambda: Access.authorized("bank", person(), frozenset({S.BASIC}), frozenset({S.BASIC})),
    ],
)
def test_inquiries_without_their_scope_are_refused(build: object) -> None:
    assert callable(build)
    with pytest.raises(InvalidScope):
        build()


class _Archive:
    def __init__(self, records: dict[str, list[CreditRecord]]) -> None:
        self._records = records

    def records_of(self, subject: SubjectIdentifier) -> Sequence[CreditRecord]:
        return self._records.get(subject.key, [])


def test_credit_report_reads_the_subjects_records() -> None:
    archive = _Archive({person().key: list(PERSON_RECORDS)})
    report = credit_report(
        archive,
        access=Access.own("citizen-1", person()),
        catalog=demo_catalog(),
        at=NOW,
        pseudonym_keys=KEYS,
    )
    assert len(report.items) == len(PERSON_RECORDS)
    assert report.catalog_version == demo_catalog().version
    empty = credit_report(
        archive,
        access=Access.own("c", company()),
        catalog=demo_catalog(),
        at=NOW,
        pseudonym_keys=KEYS,
    )
    assert empty.items == ()


def test_naive_time_is_refused() -> None:
    with pytest.raises(InvalidTimestamp):
        _view(PERSON_RECORDS, Access.own("citizen-1", person()), at=datetime(2025, 6, 1))


def test_subject_kinds_drive_applicability() -> None:
    assert SubjectKind.LEGAL not in demo_catalog().item("personal_income").applies_to
