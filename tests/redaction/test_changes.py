"""Changes of a stored record (Art. 62 para. 1, 63, 65): the stated reason, basis notices."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from redaction.changes import (
    CHANGEABLE,
    MAX_REASON,
    BasisStatus,
    basis_change_notice,
    check_revocable,
    checked_reason,
    status_after,
)
from redaction.errors import BasisDocumentRequired, InvalidFieldValue, ProhibitedInformation
from redaction.records import RecordStatus
from tests.redaction.factories import basis

LATE_EVENING_UTC = datetime(2025, 6, 1, 20, 0, tzinfo=UTC)  # 2 June in China Standard Time


def test_a_reason_is_stripped() -> None:
    assert checked_reason("  依据复核决定更正  ") == "依据复核决定更正"


@pytest.mark.parametrize("reason", ["", "   ", "x" * (MAX_REASON + 1), "更正\x00"])
def test_a_reason_is_one_line_of_bounded_text(reason: str) -> None:
    with pytest.raises(InvalidFieldValue):
        checked_reason(reason)


@pytest.mark.parametrize("reason", ["当事人经诊断患有疾病", "corrected after a DNA test"])
def test_a_reason_never_carries_prohibited_information(reason: str) -> None:
    with pytest.raises(ProhibitedInformation) as refused:
        checked_reason(reason)
    assert refused.value.to_problem()["article"] == "Art. 62 para. 1"


def test_the_notice_is_dated_the_day_it_is_received_in_the_province() -> None:
    notice = basis_change_notice(
        BasisStatus.VOIDED, date(2025, 5, 20), received_at=LATE_EVENING_UTC, modified_content=False
    )
    assert (notice.status, notice.changed_on, notice.notice_on) == (
        BasisStatus.VOIDED,
        date(2025, 5, 20),
        date(2025, 6, 2),
    )
    same_day = basis_change_notice(
        BasisStatus.REVOKED, date(2025, 6, 2), received_at=LATE_EVENING_UTC, modified_content=False
    )
    assert same_day.notice_on == same_day.changed_on


def test_a_change_cannot_lie_after_its_notice() -> None:
    with pytest.raises(InvalidFieldValue) as refused:
        basis_change_notice(
            BasisStatus.MODIFIED,
            date(2025, 6, 3),
            received_at=LATE_EVENING_UTC,
            modified_content=True,
        )
    assert refused.value.to_problem()["article"] == "Art. 65"


@pytest.mark.parametrize(
    ("status", "modified_content"),
    [(BasisStatus.MODIFIED, False), (BasisStatus.REVOKED, True), (BasisStatus.VOIDED, True)],
)
def test_art_65_only_a_modified_document_comes_with_modified_content(
    status: BasisStatus, modified_content: bool
) -> None:
    with pytest.raises(InvalidFieldValue) as refused:
        basis_change_notice(
            status,
            date(2025, 6, 1),
            received_at=LATE_EVENING_UTC,
            modified_content=modified_content,
        )
    assert refused.value.to_problem()["article"] == "Art. 65"


@pytest.mark.parametrize(
    ("before", "change", "after"),
    [
        (RecordStatus.ACTIVE, BasisStatus.REVOKED, RecordStatus.REVOKED),
        (RecordStatus.ACTIVE, BasisStatus.VOIDED, RecordStatus.REVOKED),
        (RecordStatus.ACTIVE, BasisStatus.MODIFIED, RecordStatus.ACTIVE),
        (RecordStatus.RESTORED, BasisStatus.REVOKED, RecordStatus.REVOKED),
        (RecordStatus.RESTORED, BasisStatus.MODIFIED, RecordStatus.RESTORED),
    ],
)
def test_art_65_the_record_follows_its_basis_document(
    before: RecordStatus, change: BasisStatus, after: RecordStatus
) -> None:
    assert before in CHANGEABLE and status_after(before, change) is after


def test_only_a_record_with_a_basis_document_is_revocable() -> None:
    check_revocable(basis())
    with pytest.raises(BasisDocumentRequired) as refused:
        check_revocable(None)
    assert refused.value.to_problem()["article"] == "Art. 65"
