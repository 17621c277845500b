"""A subject's file has a revision the database draws anew with every change to it, whoever
writes it (migration ``0033_archive_revisions``), and a kept view is served only for the
revision it was rendered from (Art. 39-41, 62-66) - on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from gateway.archive.repository import SqlCreditArchive
from gateway.storage.db import unit_of_work
from gateway.subjects import subject_key
from redaction.identifiers import SubjectIdentifier
from redaction.policies import Access
from tests.gateway.archive.factories import Archive, identifier, penalty, penalty_fields, person

CORRECTION = {"reason": "依据复核决定更正罚款金额", "fields": penalty_fields(fine_amount="3000")}


def _revision(archive: Archive, subject: SubjectIdentifier) -> int | None:
    with unit_of_work(archive.engine) as session:
        return SqlCreditArchive(session, archive.keys).revision(subject)


def _sql(archive: Archive, statement: str, **parameters: Any) -> None:
    with archive.engine.begin() as connection:
        assert connection.execute(text(statement), parameters).rowcount == 1


def test_every_change_to_a_file_draws_a_new_revision(archive: Archive) -> None:
    subject, bystander = person(), person()
    archive.accepted(penalty(bystander))
    bystanders = _revision(archive, identifier(bystander))
    assert _revision(archive, identifier(subject)) is None  # nothing held yet

    record_id = archive.accepted(penalty(subject))
    key = subject_key(archive.keys, identifier(subject))
    statement_id = uuid.uuid4().hex
    changes: list[tuple[str, Callable[[], None]]] = [
        ("correction", lambda: _ok(archive.change(record_id, "corrections", CORRECTION))),
        (
            "objection label",
            lambda: _sql(archive, "UPDATE records SET under_objection = :on WHERE record_id = :r",
                         on=True, r=record_id),
        ),
        (
            "a version's fields",
            lambda: _sql(archive, "UPDATE record_versions SET fields = :f WHERE record_id = :r "
                         "AND version = 1", f=json.dumps({"violation": "x"}), r=record_id),
        ),
        (
            "statement",
            lambda: _sql(archive, "INSERT INTO subject_statements (statement_id, subject_key, "
                         "record_id, kind, text, made_at, leaf_index) VALUES "
                         "(:s, :k, :r, 'statement', '情况说明', :at, 0)",
                         s=statement_id, k=key, r=record_id, at=datetime.now(UTC)),
        ),
        (
            "statement removed",
            lambda: _sql(archive, "DELETE FROM subject_statements WHERE statement_id = :s",
                         s=statement_id),
        ),
        (
            "a version removed",
            lambda: _sql(archive, "DELETE FROM record_versions WHERE record_id = :r "
                         "AND version = 2", r=record_id),
        ),
        (
            "purge",
            lambda: _sql(archive, "UPDATE records SET purged_at = :at WHERE record_id = :r",
                         at=datetime.now(UTC), r=record_id),
        ),
    ]  # fmt: skip
    seen = {_revision(archive, identifier(subject))}
    for change, make in changes:
        make()
        revision = _revision(archive, identifier(subject))
        assert revision is not None and revision not in seen, change
        seen.add(revision)
    assert _revision(archive, identifier(bystander)) == bystanders


def test_a_kept_view_is_served_until_the_file_changes(archive: Archive) -> None:
    subject = person()
    record_id = archive.accepted(penalty(subject))
    own = Access.own("citizen", identifier(subject))
    first = archive.view(own)
    assert archive.view(own) is first  # kept: same revision, same inputs

    _ok(archive.change(record_id, "corrections", CORRECTION))
    (corrected,) = archive.view(own).items
    assert corrected.version == 2 and corrected.fields["fine_amount"] == "3000"

    # a writer that is not the service - another process, an operator - is seen too
    _sql(
        archive,
        "UPDATE record_versions SET fields = :f WHERE record_id = :r AND version = 2",
        f=json.dumps(penalty_fields(fine_amount="2000")),
        r=record_id,
    )
    (rewritten,) = archive.view(own).items
    assert rewritten.fields["fine_amount"] == "2000"


def _ok(response: Any) -> None:
    assert response.status_code == 200, response.text
