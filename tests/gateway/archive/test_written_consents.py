"""Art. 62 para. 2: a record's written-consent reference resolves to a written consent on file -
a collection consent the subject gave in the gateway to that providing unit for that category,
or a signed document the unit registered - or the record is refused and nothing of it stored."""

from __future__ import annotations

from typing import Any

from audit.leaf import EventKind
from gateway.archive.models import WrittenConsentRow
from gateway.storage.db import unit_of_work
from tests.gateway.archive.factories import Archive, income, person
from tests.gateway.test_problems import assert_problem


def _refused(archive: Archive, record: dict[str, Any]) -> dict[str, Any]:
    before = archive.counts()
    (result,) = archive.results(record)
    assert (result["outcome"], result["record_id"]) == ("refused", None)
    assert archive.counts() == before
    problem: dict[str, Any] = result["problem"]
    assert (problem["status"], problem["article"]) == (403, "Art. 62 para. 2")
    assert problem["type"].endswith("/written-consent-unknown")
    return problem


def test_art62_2_an_unknown_reference_is_refused(archive: Archive) -> None:
    record = income()
    problem = _refused(archive, record)
    assert record["written_consent_ref"] not in problem["detail"]


def test_art62_2_a_registered_document_admits_the_record(archive: Archive) -> None:
    record = income()
    registered = archive.register_consent(record)
    assert registered.status_code == 201
    assert registered.json()["source"] == "document"
    assert archive.register_consent(record).status_code == 200  # a replay
    (result,) = archive.results(record)
    assert result["outcome"] == "accepted"


def test_art62_2_a_reference_names_one_document(archive: Archive) -> None:
    record = income()
    assert archive.register_consent(record).status_code == 201
    other = archive.register_consent({**record, "subject": person()})
    assert_problem(other, 409)
    assert other.json()["article"] == "Art. 62 para. 2"


def test_art62_2_a_document_for_another_subject_or_category_is_refused(archive: Archive) -> None:
    record = income()
    archive.register_consent(record, category="savings")
    _refused(archive, record)
    registered = income()
    archive.register_consent(registered)
    _refused(archive, {**registered, "subject": person()})


def test_art62_2_another_units_document_is_refused(archive: Archive) -> None:
    court = archive.register_provider()["client_id"]
    record = income()
    assert archive.register_consent(record, persona=court).status_code == 201
    _refused(archive, record)
    assert archive.results(record, persona=court)[0]["outcome"] == "accepted"


def test_art62_2_a_document_is_only_for_restricted_categories(archive: Archive) -> None:
    response = archive.register_consent(income(), category="basic")
    assert_problem(response, 422)


def _give(archive: Archive, category: str = "income") -> dict[str, Any]:
    texts = archive.client.get("/v1/written-consent-texts").json()
    body = {
        "provider": archive.credentials["provider"]["client_id"],
        "category": category,
        "text_version": texts["version"],
        "confirmed": True,
    }
    response = archive.client.post(
        "/v1/me/written-consents", json=body, headers=archive.headers("citizen")
    )
    assert response.status_code == 201, response.text
    given: dict[str, Any] = response.json()
    return given


def _citizens_income(archive: Archive, reference: str) -> dict[str, Any]:
    citizen = person(archive.credentials["citizen"]["id_number"])
    return income(citizen, written_consent_ref=reference)


def test_art62_2_the_subject_gives_and_withdraws_a_collection_consent(archive: Archive) -> None:
    given = _give(archive)
    assert (given["source"], given["category"]) == ("collection", "income")
    listed = archive.client.get("/v1/me/written-consents", headers=archive.headers("citizen"))
    assert given["reference"] in {item["reference"] for item in listed.json()["written_consents"]}
    assert (
        archive.results(_citizens_income(archive, given["reference"]))[0]["outcome"] == "accepted"
    )

    withdrawal = {"provider": given["provider"], "reference": given["reference"]}
    withdrawn = archive.client.post(
        "/v1/me/written-consents/withdrawal", json=withdrawal, headers=archive.headers("citizen")
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"] is not None
    _refused(archive, _citizens_income(archive, given["reference"]))


def test_art62_2_a_collection_consent_is_logged_and_names_no_subject(archive: Archive) -> None:
    given = _give(archive, "savings")
    with unit_of_work(archive.engine) as session:
        row = session.get(WrittenConsentRow, (given["provider"], given["reference"]))
        assert row is not None
    size = archive.counts()["audit_leaves"]
    event, openings = archive.leaf(size - 1)
    assert (event.kind, event.reason_code, event.grant_id) == (
        EventKind.CONSENT_CHANGE,
        "written_consent_given",
        given["reference"],
    )
    assert event.item_categories == {"savings"}
    assert openings is not None and openings.subject_key == row.subject_key


def test_art62_2_only_the_subject_withdraws_their_consent(archive: Archive) -> None:
    record = income()
    archive.register_consent(record)
    withdrawal = {
        "provider": archive.credentials["provider"]["client_id"],
        "reference": record["written_consent_ref"],
    }
    response = archive.client.post(
        "/v1/me/written-consents/withdrawal", json=withdrawal, headers=archive.headers("citizen")
    )
    assert_problem(response, 404)
    assert archive.results(record)[0]["outcome"] == "accepted"


def test_art62_2_a_consent_to_an_unknown_unit_or_an_old_text_is_refused(
    archive: Archive,
) -> None:
    texts = archive.client.get("/v1/written-consent-texts").json()
    headers = archive.headers("citizen")
    unknown = {"provider": "no-such-unit", "category": "income", "text_version": texts["version"]}
    response = archive.client.post(
        "/v1/me/written-consents", json={**unknown, "confirmed": True}, headers=headers
    )
    assert_problem(response, 404)
    stale = {**unknown, "provider": archive.credentials["provider"]["client_id"]}
    response = archive.client.post(
        "/v1/me/written-consents",
        json={**stale, "text_version": "0", "confirmed": True},
        headers=headers,
    )
    assert response.status_code in (403, 422)
    assert response.json()["article"].startswith("Art. 62")


def test_art62_2_a_correction_to_an_unknown_reference_is_refused(archive: Archive) -> None:
    record = archive.consented(income())
    record_id = archive.accepted(record)
    body = {"reason": "更正", "fields": record["fields"], "written_consent_ref": "wc-unknown"}
    response = archive.change(record_id, "corrections", body)
    problem = assert_problem(response, 403)
    assert problem["article"] == "Art. 62 para. 2"
    assert str(problem["type"]).endswith("/written-consent-unknown")
    assert len(archive.versions(record_id)) == 1
