"""The retention purge (Art. 41 para. 2): after an item's retention period its records' content
is emptied, the subject's identifier goes when nothing is left, and the audit leaves remain."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from audit.leaf import EventKind
from gateway.archive.models import CreditSubject
from gateway.archive.repository import statements_of
from gateway.archive.service import (
    RETENTION_JOB,
    attach_statement,
    latest_start_ended,
    purge_past_retention,
)
from gateway.audit_log.repository import log_size
from gateway.cli import app
from gateway.storage.db import unit_of_work
from gateway.subjects import subject_key
from redaction.periods import Period
from redaction.policies import Access
from redaction.statements import StatementKind
from tests.gateway.archive.factories import (
    Archive,
    basis,
    identifier,
    penalty,
    person,
    qualification,
)

# The penalties below were decided on 2025-03-20: retained five years, the qualifications ten.
PENALTY_GONE = datetime(2030, 3, 20, 4, tzinfo=UTC)
QUALIFICATION_GONE = datetime(2035, 3, 20, 4, tzinfo=UTC)


def _purge(archive: Archive, now: datetime) -> int:
    with archive.desk(now) as desk:
        return purge_past_retention(desk)


def _subject_held(archive: Archive, key: str) -> bool:
    with unit_of_work(archive.engine) as session:
        return session.get(CreditSubject, key) is not None


def test_records_past_retention_are_purged_and_their_subject_removed_last(
    archive: Archive,
) -> None:
    kept, gone = person(), person()
    penalty_id = archive.accepted(penalty(kept))
    qualification_id = archive.accepted(qualification(kept))
    other_id = archive.accepted(penalty(gone))
    kept_key, gone_key = (subject_key(archive.keys, identifier(s)) for s in (kept, gone))
    with archive.desk() as desk:
        attach_statement(desk, gone_key, other_id, StatementKind.STATEMENT, "已履行完毕")

    assert _purge(archive, PENALTY_GONE - timedelta(days=1)) == 0
    with archive.engine.connect() as connection:
        size = log_size(connection)
    assert _purge(archive, PENALTY_GONE) == 2

    for record_id in (penalty_id, other_id):
        row = archive.record(record_id)
        assert row.purged_at is not None and row.subject_key is None
        (version,) = archive.versions(record_id)
        assert (version.fields, version.basis, version.reason) == (None, None, None)
        assert version.leaf_index is not None  # its leaf stays, unlinkable: no openings
        assert archive.leaf(version.leaf_index)[1] is None
    (kept_version,) = archive.versions(qualification_id)
    assert kept_version.fields is not None
    assert archive.leaf(kept_version.leaf_index)[1] is not None
    assert _subject_held(archive, kept_key) and not _subject_held(archive, gone_key)
    with unit_of_work(archive.engine) as session:
        assert statements_of(session, gone_key) == []  # what the subject stated goes too

    events = [archive.leaf(index) for index in (size, size + 1)]
    assert {openings.subject_key for _, openings in events if openings} == {kept_key, gone_key}
    for event, _ in events:
        assert (event.kind, event.requester, event.reason_code) == (
            EventKind.RECORD_CHANGE,
            RETENTION_JOB,
            "purged",
        )
        assert event.item_categories == {"untrustworthy"} and event.response_commitment == b""

    view = archive.view(Access.own("citizen", identifier(kept)), PENALTY_GONE)
    assert [item.record_id for item in view.items] == [qualification_id]
    assert view.redactions == ()  # nothing about the purged record, not even to the subject

    assert _purge(archive, QUALIFICATION_GONE) == 1
    assert not _subject_held(archive, kept_key)


def test_a_purged_record_cannot_be_changed_or_submitted_again(archive: Archive) -> None:
    record = penalty()
    record_id = archive.accepted(record)
    _purge(archive, PENALTY_GONE)
    correction = {"reason": "更正", "fields": record["fields"]}
    assert archive.change(record_id, "corrections", correction).status_code == 404
    (again,) = archive.results(record)
    assert again["outcome"] == "refused" and again["problem"]["status"] == 409


def test_the_purge_command_purges_batch_after_batch(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    expired = {"issued_on": "2015-01-10"}
    records = [
        penalty(occurred_on="2015-01-01", decided_on="2015-01-10", basis={**basis(), **expired})
        for _ in range(3)
    ]
    record_ids = [archive.accepted(record) for record in records]
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(archive.settings.var_dir))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", archive.settings.resolved_database_url)
    result = CliRunner().invoke(app, ["archive", "purge", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "purged 3 records past their retention period\n"
    assert all(archive.record(record_id).purged_at for record_id in record_ids)


@given(
    st.tuples(st.integers(0, 30), st.integers(0, 24), st.integers(0, 400))
    .filter(any)
    .map(lambda parts: Period(*parts)),
    st.dates(date(1990, 1, 1), date(2090, 12, 31)),
    st.integers(-40, 40),
)
def test_the_latest_start_is_exactly_where_the_period_ends(
    period: Period, today: date, offset: int
) -> None:
    """``period_start <= latest`` selects exactly the records whose period has ended."""
    latest = latest_start_ended(period, today)
    start = latest + timedelta(days=offset)
    assert (period.after(start) <= today) == (start <= latest)
