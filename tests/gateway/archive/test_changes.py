"""Corrections and revocations (Art. 37, 61(3), 63, 65): a new version each, history kept,
only by the providing unit that owns the record, and every change a leaf of the audit log."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from audit.leaf import CommitmentDomain, EventKind, Outcome, check_commitment
from gateway.subjects import subject_key
from redaction.periods import local_date
from redaction.policies import Access
from tests.gateway.archive.factories import (
    Archive,
    basis,
    identifier,
    penalty,
    penalty_fields,
    person,
    qualification,
)
from tests.gateway.test_problems import assert_problem

CORRECTION = {"reason": "依据复核决定更正罚款金额", "fields": penalty_fields(fine_amount="3000")}
REVOCATION = {
    "reason": "行政复议决定撤销原处罚决定",
    "basis_status": "revoked",
    "basis_changed_on": "2025-06-02",
}


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_correction_appends_a_version_and_keeps_the_history(archive: Archive) -> None:
    subject = person()
    record_id = archive.accepted(penalty(subject))
    changed = _ok(archive.change(record_id, "corrections", CORRECTION))
    assert (changed["version"], changed["status"], changed["changed"]) == (2, "active", True)
    first, second = archive.versions(record_id)
    assert first.fields is not None and first.fields["fine_amount"] == "5000"
    assert second.fields is not None and second.fields["fine_amount"] == "3000"
    assert (first.reason, second.reason) == (None, CORRECTION["reason"])
    assert second.basis == first.basis and second.decided_on == first.decided_on

    (item,) = archive.view(Access.own("citizen", identifier(subject))).items
    assert item.version == 2 and item.change_reason == CORRECTION["reason"]
    assert [version.fields["fine_amount"] for version in item.history] == ["5000"]
    assert item.source == "Demo City Administration for Market Regulation"


def test_a_correction_that_changes_nothing_is_a_replay(archive: Archive) -> None:
    record_id = archive.accepted(penalty())
    same = {"reason": "重复提交", "fields": penalty_fields()}
    unchanged = _ok(archive.change(record_id, "corrections", same))
    assert (unchanged["version"], unchanged["changed"]) == (1, False)
    assert len(archive.versions(record_id)) == 1


def test_a_correction_is_checked_like_a_submission(archive: Archive) -> None:
    record_id = archive.accepted(penalty())
    prohibited = {"reason": "更正", "fields": penalty_fields(violation="经诊断患有传染病")}
    body = assert_problem(archive.change(record_id, "corrections", prohibited), 403)
    assert body["article"] == "Art. 62 para. 1"
    unlawful_reason = {"reason": "当事人有宗教信仰", "fields": penalty_fields()}
    assert_problem(archive.change(record_id, "corrections", unlawful_reason), 403)
    missing = {"reason": "更正", "fields": {"decision_number": "x"}}
    assert assert_problem(archive.change(record_id, "corrections", missing), 422)["article"] == (
        "Art. 37"
    )
    assert len(archive.versions(record_id)) == 1


def test_a_revocation_revokes_at_once_and_records_the_notice(archive: Archive) -> None:
    subject = person()
    record_id = archive.accepted(penalty(subject))
    revoked = _ok(archive.change(record_id, "revocation", REVOCATION))
    assert (revoked["version"], revoked["status"], revoked["changed"]) == (2, "revoked", True)
    latest = archive.versions(record_id)[-1]
    assert latest.basis_status == "revoked"
    assert latest.basis_changed_on == date(2025, 6, 2)
    assert latest.notice_on == local_date(latest.changed_at)
    assert latest.fields == archive.versions(record_id)[0].fields
    assert archive.record(record_id).status == "revoked"

    subject_id = identifier(subject)
    assert archive.view(Access.public("anyone", subject_id)).items == ()
    (own,) = archive.view(Access.own("citizen", subject_id)).items
    assert own.labels == {"revoked"} and own.change_reason == REVOCATION["reason"]

    again = _ok(archive.change(record_id, "revocation", REVOCATION))
    assert (again["version"], again["changed"]) == (2, False)
    refused = assert_problem(archive.change(record_id, "corrections", CORRECTION), 409)
    assert str(refused["type"]).endswith("/record-not-active")


def test_only_records_resting_on_a_basis_document_are_revoked(archive: Archive) -> None:
    record_id = archive.accepted(qualification())
    body = assert_problem(archive.change(record_id, "revocation", REVOCATION), 422)
    assert body["article"] == "Art. 65"
    future = {**REVOCATION, "basis_changed_on": "2099-01-01"}
    penalty_id = archive.accepted(penalty())
    assert assert_problem(archive.change(penalty_id, "revocation", future), 422)["article"] == (
        "Art. 65"
    )
    assert len(archive.versions(penalty_id)) == 1


def test_another_providing_unit_cannot_touch_a_record(archive: Archive) -> None:
    record_id = archive.accepted(penalty())
    other = archive.register_provider()["client_id"]
    for action, body in (("corrections", CORRECTION), ("revocation", REVOCATION)):
        foreign = assert_problem(archive.change(record_id, action, body, persona=other), 404)
        unknown = assert_problem(archive.change("rec_unknown", action, body), 404)
        assert foreign == unknown
        assert_problem(archive.change(record_id, action, body, persona="establishment"), 403)
    assert len(archive.versions(record_id)) == 1


def test_every_change_is_an_audit_leaf_committing_to_subject_and_version(
    archive: Archive,
) -> None:
    subject = person()
    record_id = archive.accepted(penalty(subject))
    archive.change(record_id, "corrections", CORRECTION)
    archive.change(record_id, "revocation", REVOCATION)
    key = subject_key(archive.keys, identifier(subject))
    provider = archive.credentials["provider"]["client_id"]
    versions = archive.versions(record_id)
    assert len({version.leaf_index for version in versions}) == 3
    for version, reason in zip(versions, ("submitted", "corrected", "revoked"), strict=True):
        event, openings = archive.leaf(version.leaf_index)
        assert (event.kind, event.channel, event.outcome) == (
            EventKind.RECORD_CHANGE,
            None,
            Outcome.ALLOWED,
        )
        assert (event.requester, event.reason_code) == (provider, reason)
        assert event.item_categories == {"untrustworthy"}
        assert event.grant_id == event.purpose == event.legal_basis == ""
        assert openings is not None and openings.response_salt is not None
        assert openings.subject_key == key  # the subject's access log finds it (Art. 63)
        check_commitment(
            event.subject_commitment, CommitmentDomain.SUBJECT, openings.subject_salt, key.encode()
        )
        content = {
            "record_id": record_id,
            "version": version.version,
            "status": version.status,
            "fields": version.fields,
            "occurred_on": version.occurred_on.isoformat(),
            "decided_on": version.decided_on.isoformat() if version.decided_on else None,
            "basis": version.basis,
            "written_consent_ref": version.written_consent_ref,
        }
        committed = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        check_commitment(
            event.response_commitment,
            CommitmentDomain.RESPONSE,
            openings.response_salt,
            committed.encode(),
        )


def test_art_65_a_modified_basis_document_modifies_the_record(archive: Archive) -> None:
    subject = person()
    record_id = archive.accepted(penalty(subject))
    modification: dict[str, object] = {
        **REVOCATION,
        "basis_status": "modified",
        "basis_changed_on": "2025-06-03",
    }
    without_content = assert_problem(archive.change(record_id, "revocation", modification), 422)
    assert without_content["article"] == "Art. 65"
    modification["modification"] = {"fields": penalty_fields(fine_amount="2000")}
    modified = _ok(archive.change(record_id, "revocation", modification))
    assert (modified["version"], modified["status"], modified["changed"]) == (2, "active", True)
    first, second = archive.versions(record_id)
    assert second.fields is not None and second.fields["fine_amount"] == "2000"
    assert (second.basis_status, second.basis_changed_on) == ("modified", date(2025, 6, 3))
    assert second.notice_on == local_date(second.changed_at)
    assert second.reason == REVOCATION["reason"] and second.basis == first.basis
    event, _ = archive.leaf(second.leaf_index)
    assert event.reason_code == "modified"
    (public,) = archive.view(Access.public("anyone", identifier(subject))).items
    assert public.version == 2  # still displayed, with the modified content

    revoked_with_content = {**REVOCATION, "modification": modification["modification"]}
    refused = assert_problem(archive.change(record_id, "revocation", revoked_with_content), 422)
    assert refused["article"] == "Art. 65"
    assert len(archive.versions(record_id)) == 2


def test_art_65_a_restored_record_is_still_revoked_with_its_basis(archive: Archive) -> None:
    subject = person()
    record_id = archive.accepted(penalty(subject))
    restoration = {"reason": "已履行义务，准予信用修复", "decision": basis("示信修〔2025〕3号")}
    restored = archive.client.post(
        f"/v1/records/{record_id}/restoration", json=restoration, headers=archive.headers()
    )
    assert restored.status_code == 200, restored.text
    voided = _ok(archive.change(record_id, "revocation", {**REVOCATION, "basis_status": "voided"}))
    assert (voided["version"], voided["status"]) == (3, "revoked")
    assert archive.versions(record_id)[-1].basis_status == "voided"
    (own,) = archive.view(Access.own("citizen", identifier(subject))).items
    assert own.labels == {"revoked"}


def test_art_65_refusals_name_the_article_that_stopped_the_record(archive: Archive) -> None:
    record_id = archive.accepted(penalty())
    _ok(archive.change(record_id, "revocation", REVOCATION))
    modification = {
        **REVOCATION,
        "basis_status": "modified",
        "modification": {"fields": penalty_fields()},
    }
    stopped = assert_problem(archive.change(record_id, "revocation", modification), 409)
    assert stopped["article"] == "Art. 65"
    unknown = assert_problem(archive.change("rec_unknown", "revocation", REVOCATION), 404)
    assert unknown["article"] == "Art. 65"
    restoration = {"reason": "修复", "decision": basis()}
    missing = archive.client.post(
        "/v1/records/rec_unknown/restoration", json=restoration, headers=archive.headers()
    )
    assert assert_problem(missing, 404)["article"] == "Art. 66 para. 2"
