"""Archive integrity (Art. 61(3)): ``gateway audit verify --local --archive`` finds every direct
SQL change or deletion of a record version, naming the record, on both backends.

Each test tampers with records of its own as an insider with SQL access would, checks the
report, then puts the rows back, so the module's archive verifies again afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select, update
from typer.testing import CliRunner, Result

from gateway.archive.repository import RECORDS, VERSIONS
from gateway.archive.service import purge_past_retention
from gateway.cli import app
from tests.gateway.archive.factories import Archive, penalty, penalty_fields, person

runner = CliRunner()
PENALTY_GONE = datetime(2030, 3, 20, 4, tzinfo=UTC)  # five years after the penalties' decision
CORRECTION = {"reason": "依据复核决定更正罚款金额", "fields": penalty_fields(fine_amount="3000")}
Tamper = Callable[[Connection, str], None]


@pytest.fixture
def verify(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], Result]:
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(archive.settings.var_dir))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", archive.settings.resolved_database_url)
    archive.client.app.state.audit_log.publish_now()  # type: ignore[attr-defined]
    state = str(tmp_path / "verifier.json")
    return lambda: runner.invoke(app, ["audit", "verify", "--local", "--archive", "--state", state])


@pytest.fixture
def corrected(archive: Archive) -> str:
    """A record with two versions: as submitted, then corrected."""
    record_id = archive.accepted(penalty(person()))
    assert archive.change(record_id, "corrections", CORRECTION).status_code == 200
    return record_id


@pytest.fixture
def restored(archive: Archive, corrected: str) -> Iterator[None]:
    """Put the record and its versions back as they were once the test tampered with them."""
    with archive.engine.connect() as connection:
        record = connection.execute(select(RECORDS).where(RECORDS.c.record_id == corrected)).one()
        versions = connection.execute(
            select(VERSIONS).where(VERSIONS.c.record_id == corrected)
        ).all()
    yield
    with archive.engine.begin() as connection:
        connection.execute(delete(VERSIONS).where(VERSIONS.c.record_id == corrected))
        connection.execute(
            update(RECORDS).where(RECORDS.c.record_id == corrected).values(**_values(record))
        )
        connection.execute(insert(VERSIONS), [_values(version) for version in versions])


def _values(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def change_fields(connection: Connection, record_id: str) -> None:
    connection.execute(
        update(VERSIONS)
        .where(VERSIONS.c.record_id == record_id, VERSIONS.c.version == 1)
        .values(fields=penalty_fields(fine_amount="1"))
    )


def change_status(connection: Connection, record_id: str) -> None:
    connection.execute(
        update(VERSIONS)
        .where(VERSIONS.c.record_id == record_id, VERSIONS.c.version == 2)
        .values(status="revoked")
    )


def change_written_consent(connection: Connection, record_id: str) -> None:
    connection.execute(
        update(VERSIONS)
        .where(VERSIONS.c.record_id == record_id, VERSIONS.c.version == 2)
        .values(written_consent_ref="forged-consent")
    )


def swap_leaves(connection: Connection, record_id: str) -> None:
    leaves = dict(
        connection.execute(
            select(VERSIONS.c.version, VERSIONS.c.leaf_index).where(
                VERSIONS.c.record_id == record_id
            )
        ).all()
    )
    for version, other in ((1, 2), (2, 1)):
        connection.execute(
            update(VERSIONS)
            .where(VERSIONS.c.record_id == record_id, VERSIONS.c.version == version)
            .values(leaf_index=leaves[other])
        )


def delete_latest_version(connection: Connection, record_id: str) -> None:
    connection.execute(
        delete(VERSIONS).where(VERSIONS.c.record_id == record_id, VERSIONS.c.version == 2)
    )


def delete_first_version(connection: Connection, record_id: str) -> None:
    connection.execute(
        delete(VERSIONS).where(VERSIONS.c.record_id == record_id, VERSIONS.c.version == 1)
    )


def delete_history_and_rewind(connection: Connection, record_id: str) -> None:
    """The last version deleted and the record's current version set back to hide it."""
    delete_latest_version(connection, record_id)
    connection.execute(update(RECORDS).where(RECORDS.c.record_id == record_id).values(version=1))


def move_to_another_subject(connection: Connection, record_id: str) -> None:
    other = connection.execute(
        select(RECORDS.c.subject_key)
        .where(RECORDS.c.record_id != record_id, RECORDS.c.subject_key.is_not(None))
        .limit(1)
    ).scalar_one()
    connection.execute(
        update(RECORDS).where(RECORDS.c.record_id == record_id).values(subject_key=other)
    )


TAMPERS = (
    change_fields,
    change_status,
    change_written_consent,
    swap_leaves,
    delete_latest_version,
    delete_first_version,
    move_to_another_subject,
)


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda t: t.__name__)
def test_a_changed_or_deleted_version_is_reported_with_its_record(
    archive: Archive,
    verify: Callable[[], Result],
    corrected: str,
    restored: None,
    tamper: Tamper,
) -> None:
    clean = verify()
    assert clean.exit_code == 0, clean.output
    assert "record versions of" in clean.stdout
    with archive.engine.begin() as connection:
        tamper(connection, corrected)
    failed = verify()
    assert failed.exit_code == 1, failed.output
    assert "verification FAILED: the archive does not match the audit log" in failed.stderr
    assert f"record {corrected}" in failed.stderr


def test_a_rewound_history_is_reported_by_its_orphaned_leaf(
    archive: Archive, verify: Callable[[], Result], corrected: str, restored: None
) -> None:
    (_, second) = archive.versions(corrected)
    with archive.engine.begin() as connection:
        delete_history_and_rewind(connection, corrected)
    failed = verify()
    assert failed.exit_code == 1
    assert f"leaf {second.leaf_index} registered a record version that is not stored" in (
        failed.stderr
    )


def test_archive_needs_local(verify: Callable[[], Result]) -> None:
    result = runner.invoke(app, ["audit", "verify", "--export", "x.jsonl", "--archive"])
    assert result.exit_code == 2


def test_a_purged_record_keeps_verifying_without_its_openings(
    archive: Archive, verify: Callable[[], Result]
) -> None:
    record_id = archive.accepted(penalty(person()))
    with archive.desk(PENALTY_GONE) as desk:
        assert purge_past_retention(desk) >= 1
    (version,) = archive.versions(record_id)
    assert version.fields is None and archive.leaf(version.leaf_index)[1] is None
    result = verify()
    assert result.exit_code == 0, result.output
    assert " purged)" in result.stdout and "(0 purged)" not in result.stdout
