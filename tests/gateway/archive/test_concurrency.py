"""Concurrent changes of one record (Art. 61(3)): versions stay contiguous, nothing is lost or
written twice, and a change that lost the race is refused with 409 rather than a failure."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlmodel import col, func, select

from gateway.archive.errors import ConcurrentChange
from gateway.archive.models import RecordRow
from gateway.archive.schemas import RecordIn
from gateway.archive.service import (
    Correction,
    SubmissionOutcome,
    correct_record,
    submit_records,
)
from gateway.storage.db import unit_of_work
from tests.gateway.archive.factories import Archive, penalty, penalty_fields

CONCURRENT = 6
T = TypeVar("T")


def _race(attempt: Callable[[int], T]) -> list[T | ConcurrentChange]:
    start = threading.Barrier(CONCURRENT)

    def run(number: int) -> T | ConcurrentChange:
        start.wait()
        try:
            return attempt(number)
        except ConcurrentChange as lost:
            return lost

    with ThreadPoolExecutor(CONCURRENT) as pool:
        return list(pool.map(run, range(CONCURRENT)))


def test_concurrent_corrections_keep_the_versions_contiguous(archive: Archive) -> None:
    record_id = archive.accepted(penalty())
    provider = archive.credentials["provider"]["client_id"]

    def correct(number: int) -> int:
        fields = penalty_fields(fine_amount=str(1000 + number))
        with archive.desk() as desk:
            change = correct_record(desk, provider, record_id, Correction("更正金额", fields))
        return change.version

    outcomes = _race(correct)
    versions = sorted(outcome for outcome in outcomes if isinstance(outcome, int))
    stored = archive.versions(record_id)
    assert [version.version for version in stored] == list(range(1, len(versions) + 2))
    assert versions == [version.version for version in stored[1:]]
    assert archive.record(record_id).version == len(stored)


def test_a_new_record_submitted_concurrently_is_stored_once(archive: Archive) -> None:
    submission = RecordIn.model_validate_json(json.dumps(penalty())).to_submission()
    provider = archive.credentials["provider"]["client_id"]

    def submit(_: int) -> SubmissionOutcome:
        with archive.desk() as desk:
            (result,) = submit_records(desk, provider, [submission])
        return result.outcome

    outcomes = _race(submit)
    assert outcomes.count(SubmissionOutcome.ACCEPTED) == 1
    assert all(
        isinstance(outcome, ConcurrentChange) or outcome is not SubmissionOutcome.REFUSED
        for outcome in outcomes
    )
    with unit_of_work(archive.engine) as session:
        same_id = col(RecordRow.provider_record_id) == submission.provider_record_id
        assert session.exec(select(func.count()).where(same_id)).one() == 1
