"""The grant read at the driver level (:mod:`gateway.storage.reads`) is the grant the session
reads, field for field - JSON members and UTC datetimes included - and a session that has
written reads its own write, not the committed row."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import Session, col

from consent.errors import InvalidTokenError
from consent.grants import GrantState
from gateway.archive.views import FileRevision
from gateway.consents.repository import GRANTS, SqlGrantStore
from gateway.oauth.repository import RevocationCheck, SqlRevokedTokens, SqlWithdrawnKeys
from gateway.parties.models import Party
from gateway.storage.db import unit_of_work
from gateway.storage.reads import driver_reads
from tests.gateway.consents.factories import Flow


def test_a_grant_read_at_the_driver_level_is_the_one_the_session_reads(flow: Flow) -> None:
    grant_id = flow.active()
    with unit_of_work(flow.engine) as session:
        at_driver_level = SqlGrantStore(session).get(grant_id)
        assert not session.in_transaction()  # nothing went through the session
        session.connection()  # begun: the next read is the session's
        in_session = SqlGrantStore(session).get(grant_id)
    assert at_driver_level is not None
    assert at_driver_level == in_session
    assert at_driver_level.state is GrantState.ACTIVE
    assert at_driver_level.expires_at is not None
    assert at_driver_level.expires_at.tzinfo is not None
    assert at_driver_level.granted_categories == frozenset({"basic", "untrustworthy"})
    assert SqlGrantStore(session).get("g-unknown") is None


def test_a_session_that_wrote_reads_its_write(flow: Flow) -> None:
    grant_id = flow.active()
    with unit_of_work(flow.engine) as session:
        before = SqlGrantStore(session).get(grant_id)
        assert before is not None
        session.connection().execute(
            update(GRANTS).where(GRANTS.c.grant_id == grant_id).values(uses=7)
        )
        assert SqlGrantStore(session).get(grant_id) == replace(before, uses=7)
        session.rollback()
    with unit_of_work(flow.engine) as session:
        assert SqlGrantStore(session).get(grant_id) == before  # the write was never committed


def test_kept_connections_are_closed_with_their_engine_and_opened_again(flow: Flow) -> None:
    grant_id = flow.active()
    reads = driver_reads(flow.engine)
    assert reads is driver_reads(flow.engine)  # one per engine
    flow.engine.dispose()
    with unit_of_work(flow.engine) as session:
        assert SqlGrantStore(session).get(grant_id) is not None


def test_a_kept_connection_the_server_closed_is_replaced_for_the_same_read(flow: Flow) -> None:
    """PostgreSQL: no ping before a read; a read on a kept connection the server closed is read
    again on a new one. SQLite: the thread reads through the same kept connection each time."""
    grant_id = flow.active()
    reads = driver_reads(flow.engine)
    first = reads.run(lambda connection: connection)
    assert reads.run(lambda connection: connection) is first  # kept, not reopened
    if flow.engine.dialect.name == "postgresql":
        with flow.engine.connect() as other:
            pid = reads.run(lambda connection: connection.info.backend_pid)
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with unit_of_work(flow.engine) as session:
        grant = SqlGrantStore(session).get(grant_id)
    assert grant is not None and grant.grant_id == grant_id
    replaced = flow.engine.dialect.name == "postgresql"
    assert (reads.run(lambda connection: connection) is not first) == replaced


def test_a_grant_and_its_subjects_file_revision_are_read_together(flow: Flow) -> None:
    """An authorized inquiry reads the grant and the revision its view is kept by in one
    read: the grant the store reads alone, and the revision the file holds now - drawn anew
    by any change - or none when nothing is held about the subject."""
    grant_id = flow.active()
    with unit_of_work(flow.engine) as session:
        grant = SqlGrantStore(session).get(grant_id)
        assert grant is not None
        found, file = SqlGrantStore(session).get_with_file(grant_id, grant.subject_key)
        assert found == grant
        assert file is not None
        assert file.revision == _revision(session, grant.subject_key)
        assert SqlGrantStore(session).get_with_file("g-unknown", grant.subject_key) == (None, None)
        _, nobody = SqlGrantStore(session).get_with_file(grant_id, "p1-nobody")
        assert nobody == FileRevision(None)
    held = "UPDATE archive_files SET revision = 41 WHERE subject_key = :k"
    if file.revision is None:
        held = "INSERT INTO archive_files (subject_key, revision) VALUES (:k, 41)"
    with unit_of_work(flow.engine) as session:
        session.execute(text(held), {"k": grant.subject_key})
    with unit_of_work(flow.engine) as session:
        _, changed = SqlGrantStore(session).get_with_file(grant_id, grant.subject_key)
    assert changed == FileRevision(41)


def _revision(session: Session, held_by: str) -> int | None:
    found = session.execute(
        text("SELECT revision FROM archive_files WHERE subject_key = :k"), {"k": held_by}
    ).scalar()
    return None if found is None else int(found)


def test_the_grant_read_finds_the_tokens_refusal_as_the_tokens_own_read_does(flow: Flow) -> None:
    """Read with the grant, a token's refusal - revoked on its own, its client disabled, its
    signing key withdrawn, or none of them - is what the token's own read finds, at the driver
    level and in a session that has begun; with no such grant nothing is found and the
    token's own read settles it (fail-closed: a refused token always raises)."""
    grant_id = flow.active()
    disabled = flow.register_establishment()["client_id"]
    revoked, withdrawn = SqlRevokedTokens(flow.engine), SqlWithdrawnKeys(flow.engine)
    revoked.revoke("jti-revoked", datetime.now(UTC) + timedelta(hours=1))
    withdrawn.withdraw("kid-withdrawn", datetime.now(UTC))
    with unit_of_work(flow.engine) as session:
        session.execute(update(Party).where(col(Party.client_id) == disabled).values(disabled=True))
        grant = SqlGrantStore(session).get(grant_id)
    assert grant is not None
    cases = [
        (RevocationCheck("jti-good", "bank", "kid-good"), False),
        (RevocationCheck("jti-revoked", "bank", "kid-good"), True),
        (RevocationCheck("jti-good", disabled, "kid-good"), True),
        (RevocationCheck("jti-good", "bank", "kid-withdrawn"), True),
    ]
    for begun in (False, True):
        for check, refused in cases:
            assert revoked.is_refused(check) is refused
            with unit_of_work(flow.engine) as session:
                if begun:
                    session.connection()
                store, read, missing = SqlGrantStore(session), replace(check), replace(check)
                found, _ = store.get_with_file(grant_id, grant.subject_key, read)
                assert found == grant and read.refused is refused, (check, begun)
                assert store.get_with_file("g-unknown", grant.subject_key, missing) == (None, None)
                assert missing.refused is None
                for settled in (read, missing):
                    if refused:
                        with pytest.raises(InvalidTokenError):
                            settled.settle(session)
                    else:
                        settled.settle(session)
                    assert settled.refused is refused
