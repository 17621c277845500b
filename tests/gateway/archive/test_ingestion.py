"""``POST /v1/records``: a batch answered record by record (Art. 27, 34, 35, 37, 62), idempotent
by the provider's record id, and nothing of a refused record stored anywhere."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gateway.archive.schemas import MAX_BATCH
from gateway.demo import demo_id_number
from tests.gateway.archive.factories import (
    Archive,
    income,
    penalty,
    penalty_fields,
    person,
    qualification,
)
from tests.gateway.test_problems import assert_problem


def _refusal(archive: Archive, record: dict[str, Any]) -> dict[str, Any]:
    """The problem a lone record is refused with; the batch leaves no row anywhere."""
    before = archive.counts()
    (result,) = archive.results(record)
    assert result["outcome"] == "refused" and result["record_id"] is None
    assert archive.counts() == before
    problem: dict[str, Any] = result["problem"]
    return problem


def test_a_mixed_batch_stores_the_accepted_records_only(archive: Archive) -> None:
    subject, refused_subject = person(), person()
    batch = [
        penalty(subject),
        penalty(refused_subject, basis=None),
        qualification(subject),
        income(refused_subject, written_consent_ref=None),
        penalty(person("320102198804122170")),
    ]
    before = archive.counts()
    response = archive.submit(*batch)
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["unchanged"], body["refused"]) == (2, 0, 3)
    outcomes = [(result["index"], result["outcome"]) for result in body["results"]]
    assert outcomes == [
        (0, "accepted"),
        (1, "refused"),
        (2, "accepted"),
        (3, "refused"),
        (4, "refused"),
    ]
    assert [result["provider_record_id"] for result in body["results"]] == [
        record["provider_record_id"] for record in batch
    ]
    assert [result["version"] for result in body["results"]] == [1, None, 1, None, None]
    after = archive.counts()
    # one subject (the refused subject's records left no row), two records, two versions,
    # two audit leaves
    assert {name: after[name] - before[name] for name in after} == {
        "credit_subjects": 1,
        "records": 2,
        "record_versions": 2,
        "audit_leaves": 2,
    }
    invalid_identifier = body["results"][4]["problem"]
    assert invalid_identifier["status"] == 422 and invalid_identifier["article"] == "Art. 34"
    assert "320102198804122170" not in response.text


def test_a_replay_is_unchanged_and_other_content_is_a_conflict(archive: Archive) -> None:
    record = penalty()
    first = archive.results(record)[0]
    before = archive.counts()
    replay, same_again = archive.results(record, record)
    assert replay == {**first, "outcome": "unchanged"}
    assert same_again == {**replay, "index": 1}
    assert archive.counts() == before

    changed = {**record, "fields": penalty_fields(fine_amount="6000")}
    (conflict,) = archive.results(changed)
    assert conflict["outcome"] == "refused" and conflict["record_id"] == first["record_id"]
    assert conflict["problem"]["status"] == 409
    assert conflict["problem"]["type"].endswith("/provider-record-conflict")
    assert conflict["problem"]["article"] == "Art. 61(3)"
    assert archive.counts() == before


def test_the_same_new_record_twice_in_a_batch_is_stored_once(archive: Archive) -> None:
    record = penalty()
    other = {**record, "fields": penalty_fields(violation="未按规定公示信息")}
    before = archive.counts()
    first, again, conflicting = archive.results(record, record, other)
    assert (first["outcome"], again["outcome"]) == ("accepted", "unchanged")
    assert again["record_id"] == first["record_id"]
    assert conflicting["problem"]["status"] == 409
    assert archive.counts()["records"] == before["records"] + 1


def test_the_same_provider_record_id_of_two_providers_are_two_records(archive: Archive) -> None:
    record = penalty()
    other = archive.register_provider()["client_id"]
    ours = archive.accepted(record)
    theirs = archive.accepted(record, persona=other)
    assert ours != theirs


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (penalty_fields(blood_type="A"), None),
        (penalty_fields(religiousFaith="佛教"), None),
        (penalty_fields(指纹="已采集"), None),
        (penalty_fields(violation="当事人患有精神病，未按期履行"), "violation"),
        (penalty_fields(penalty_content="Fined; medical history of diabetes on file"), None),
        (penalty_fields(penalty_authority="the debtor, a practising Muslim"), None),
        (penalty_fields(penalty_authority="经查系基督徒"), "penalty_authority"),
    ],
)
def test_prohibited_information_is_refused_and_never_stored(
    archive: Archive, fields: dict[str, object], field: str | None
) -> None:
    """Field names, and the content of the free-text and string fields (Art. 62 para. 1)."""
    problem = _refusal(archive, penalty(fields=fields))
    assert problem["status"] == 403
    assert problem["article"] == "Art. 62 para. 1"
    assert problem["type"].endswith("/prohibited-information")
    if field is not None:
        assert f"'{field}'" in problem["detail"]
    for value in fields.values():
        assert str(value) not in problem["detail"]


def test_restricted_information_needs_a_written_consent_reference(archive: Archive) -> None:
    problem = _refusal(archive, income(written_consent_ref=None))
    assert (problem["status"], problem["article"]) == (403, "Art. 62 para. 2")
    assert archive.results(archive.consented(income()))[0]["outcome"] == "accepted"


def test_untrustworthiness_needs_its_basis_document(archive: Archive) -> None:
    problem = _refusal(archive, penalty(basis=None))
    assert (problem["status"], problem["article"]) == (422, "Art. 27")
    assert problem["type"].endswith("/basis-document-required")


@pytest.mark.parametrize(
    ("record", "article"),
    [
        (penalty(item_code="medical_records"), "Art. 35"),
        (penalty(fields=penalty_fields(nickname="x")), "Art. 35"),
        (penalty(person("91350100M000100Y43"), item_code="personal_income"), "Art. 34"),
        (qualification({"kind": "credit_code", "value": "91350100M000100Y43"}), "Art. 35"),
        (penalty(fields=penalty_fields(fine_amount="lots")), "Art. 37"),
        (penalty(occurred_on="2099-01-01"), "Art. 37"),
        (penalty(provider_record_id="has space"), "Art. 37"),
    ],
)
def test_records_outside_the_catalog_or_malformed_are_refused(
    archive: Archive, record: dict[str, Any], article: str
) -> None:
    problem = _refusal(archive, record)
    assert problem["status"] == 422 and problem["article"] == article


def test_only_providing_units_submit(archive: Archive) -> None:
    assert_problem(archive.client.post("/v1/records", json={"records": [penalty()]}), 401)
    denied = archive.submit(penalty(), persona="establishment")
    assert_problem(denied, 403)


def test_a_batch_is_bounded(archive: Archive) -> None:
    record = penalty()
    assert_problem(archive.submit(), 422)
    assert_problem(archive.submit(*[record] * (MAX_BATCH + 1)), 422)
    assert_problem(archive.submit({**record, "unknown": 1}), 422)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("当事人感染艾滋病", "illness_or_medical_history"),
        ("借款人癌症晚期", "illness_or_medical_history"),
        ("当事人O型血", "blood_type"),
        ("借款人系基督徒", "religious_faith"),
        ("当事人是穆斯林", "religious_faith"),
        ("当事人患糖尿病", "illness_or_medical_history"),
        ("診斷為精神分裂症", "illness_or_medical_history"),
        ("the debtor has cancer", "illness_or_medical_history"),
        ("基\u200b因检测阳性", "genetics"),
        ("已采集虹膜", "fingerprints"),
    ],
)
def test_art62_1_what_the_review_found_accepted_is_refused(
    archive: Archive, text: str, category: str
) -> None:
    """The sentences a legal review found stored are refused naming the category and the
    field, never the text."""
    problem = _refusal(archive, penalty(fields=penalty_fields(violation=text)))
    assert (problem["status"], problem["article"]) == (403, "Art. 62 para. 1")
    assert category in problem["detail"] and "'violation'" in problem["detail"]
    assert text not in problem["detail"]


def test_art62_1_a_hospital_fined_for_medical_waste_is_accepted(archive: Archive) -> None:
    fields = penalty_fields(violation="未按规定处置医疗废物，非法行医")
    assert archive.results(penalty(fields=fields))[0]["outcome"] == "accepted"


def test_art_26_a_unit_submits_only_the_untrustworthiness_its_sector_designates(
    archive: Archive,
) -> None:
    court = archive.register_provider(sector="courts")["client_id"]
    before = archive.counts()
    (refused,) = archive.results(penalty(), persona=court)
    assert refused["outcome"] == "refused" and archive.counts() == before
    assert (refused["problem"]["status"], refused["problem"]["article"]) == (403, "Art. 26 para. 1")
    sectorless = archive.register_provider(sector=None)["client_id"]
    (refused,) = archive.results(penalty(), persona=sectorless)
    assert refused["problem"]["article"] == "Art. 26 para. 1"
    (basic,) = archive.results(qualification(), persona=court)  # not untrustworthiness
    assert basic["outcome"] == "accepted"


def test_art_26_the_unit_is_told_what_to_designate_leniently(archive: Archive) -> None:
    minor = demo_id_number("320102", "20090301", "015")  # 16 on the day of the conduct
    flagged, slight, plain = archive.results(
        penalty(person(minor), occurred_on="2025-03-01"),
        penalty(corrected_on="2025-03-10"),
        penalty(),
    )
    assert flagged["lenient_designation"] == ["minor_over_16"]
    assert slight["lenient_designation"] == ["slight_and_corrected"]
    assert plain["lenient_designation"] == []
    (stored,) = archive.versions(slight["record_id"])
    assert (stored.lenient, stored.corrected_on) == (["slight_and_corrected"], date(2025, 3, 10))


def test_art_31_a_listing_without_what_art_31_requires_is_refused(archive: Archive) -> None:
    listing = penalty(
        item_code="serious_untrustworthy_list",
        fields={
            "list_name": "严重违法失信名单",
            "listing_authority": "示范市市场监督管理局",
            "decision_number": "示市监列〔2025〕3号",
            "listing_reason": "提供虚假材料骗取登记",
            "notified_on": "2025-02-01",
            "objection_window_ends_on": "2025-02-15",
            "removal_conditions": "公示期满三年且已履行义务，可申请移出",
            "remedies": "可依法申请行政复议或者提起行政诉讼",
        },
        decided_on="2025-03-20",
    )
    assert archive.results(listing)[0]["outcome"] == "accepted"
    without = {**listing, "fields": {**listing["fields"]}}
    del without["fields"]["remedies"]
    assert _refusal(archive, without)["article"] == "Art. 31"
