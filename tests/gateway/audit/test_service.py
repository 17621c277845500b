"""AuditLog: durable appends, fail-closed errors, checkpoints that never contradict history."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text

from audit.checkpoint import open_checkpoint
from audit.errors import AuditUnavailable, InconsistentCheckpoint, InvalidLeaf, InvalidProofRequest
from audit.leaf import AuditEvent, encode
from audit.merkle import leaf_hash, verify_consistency
from audit.note import parse_verifier_key
from audit.sequencer import MAX_DELAY, Appended
from audit.tlog import stored_hash_index
from gateway.audit_log.errors import CheckpointNotPublished, InvalidLeafRange
from gateway.audit_log.repository import Openings, read_openings
from gateway.audit_log.service import MAX_LEAVES_PAGE, AuditLog, batch_window
from gateway.keys import load_keys
from gateway.settings import Settings
from gateway.storage.db import make_engine
from gateway.telemetry import SPAN_AUDIT
from tests.gateway.audit.factories import append_entries, audit_log_of, entry


@pytest.fixture
def audit_log(migrated: Settings) -> Iterator[AuditLog]:
    with audit_log_of(migrated) as audit_log:
        yield audit_log


def _in_threads(audit_log: AuditLog, entries: list[tuple[AuditEvent, Openings]]) -> list[Appended]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda e: audit_log.append(*e), entries))


def _on_the_event_loop(
    audit_log: AuditLog, entries: list[tuple[AuditEvent, Openings]]
) -> list[Appended]:
    async def together() -> list[Appended]:
        return await asyncio.gather(*(audit_log.append_async(*e) for e in entries))

    return asyncio.run(together())


CONCURRENTLY = {"in threads": _in_threads, "on the event loop": _on_the_event_loop}


@pytest.mark.parametrize("wait", CONCURRENTLY)
def test_concurrent_appends_get_contiguous_indexes_and_their_openings(
    audit_log: AuditLog, migrated: Settings, wait: str
) -> None:
    entries = [entry(n) for n in range(40)]
    appended = CONCURRENTLY[wait](audit_log, entries)
    assert sorted(a.leaf_index for a in appended) == list(range(40))
    audit_log.publish_now()
    engine = make_engine(migrated.resolved_database_url)
    with engine.connect() as connection:
        for (event, openings), where in zip(entries, appended, strict=True):
            assert where.leaf_hash == leaf_hash(encode(event))
            assert read_openings(connection, where.leaf_index) == openings
    engine.dispose()
    assert audit_log.leaves(0, 40) == [encode(event) for event, _ in entries]


@pytest.mark.parametrize("wait", CONCURRENTLY)
def test_an_append_opens_an_audit_span_without_personal_data(
    audit_log: AuditLog, spans: InMemorySpanExporter, wait: str
) -> None:
    CONCURRENTLY[wait](audit_log, [entry(0)])
    (span,) = [s for s in spans.get_finished_spans() if s.name == SPAN_AUDIT]
    assert dict(span.attributes or {}) == {"audit.leaf_index": 0}


def test_storage_failure_fails_the_append_closed(audit_log: AuditLog, migrated: Settings) -> None:
    engine = make_engine(migrated.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE audit_leaves"))
    engine.dispose()
    with pytest.raises(AuditUnavailable) as failure:
        audit_log.append(*entry(0))
    assert failure.value.status == 503
    assert failure.value.to_problem()["article"] == "Art. 39"


def test_only_sqlite_holds_a_window_open_for_more_entries(migrated: Settings) -> None:
    """PostgreSQL queues the writers waiting for the log's lock and gathers meanwhile; on
    SQLite the window is the other processes' turn at the write lock."""
    engine = make_engine(migrated.resolved_database_url)
    expected = 0.0 if engine.dialect.name == "postgresql" else MAX_DELAY
    assert batch_window(engine) == expected
    engine.dispose()


def test_a_closed_log_refuses_appends(audit_log: AuditLog) -> None:
    audit_log.close()
    with pytest.raises(AuditUnavailable):
        audit_log.append(*entry(0))


def test_openings_must_match_the_commitments(audit_log: AuditLog) -> None:
    event, openings = entry(0)
    with pytest.raises(InvalidLeaf):
        audit_log.append(event, Openings(openings.subject_salt))
    with pytest.raises(InvalidLeaf):
        audit_log.append(event, Openings(b"short", openings.response_salt))


def test_checkpoints_grow_and_each_extends_the_last(audit_log: AuditLog) -> None:
    verifier = parse_verifier_key(audit_log.verifier_key())
    heads = []
    for count in (3, 0, 5, 1):
        append_entries(audit_log, count)
        heads.append(open_checkpoint(audit_log.publish_now(), [verifier], verifier.name))
    assert [head.size for head in heads] == [3, 3, 8, 9]
    assert audit_log.checkpoint() == audit_log.publish_now()  # nothing new: not re-signed
    for earlier, later in pairwise(heads):
        proof = audit_log.prove_consistency(earlier.size, later.size)
        verify_consistency(earlier.size, later.size, proof, earlier.root, later.root)


def test_a_rewritten_log_gets_no_new_checkpoint(audit_log: AuditLog, migrated: Settings) -> None:
    append_entries(audit_log, 4)
    audit_log.publish_now()
    engine = make_engine(migrated.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(  # the root of the 4 leaves, which the next tree builds on
            text("UPDATE audit_hashes SET hash = :h WHERE hash_index = :i"),
            {"h": bytes(32), "i": stored_hash_index(2, 0)},
        )
    engine.dispose()
    append_entries(audit_log, 1, first=4)
    with pytest.raises(InconsistentCheckpoint):
        audit_log.publish_now()


def test_proofs_and_leaves_stop_at_the_latest_checkpoint(audit_log: AuditLog) -> None:
    append_entries(audit_log, 5)
    audit_log.publish_now()
    append_entries(audit_log, 2, first=5)
    assert len(audit_log.prove_inclusion(0, 5)) == 3  # leaf 1, leaves 2-3, leaf 4
    with pytest.raises(InvalidProofRequest, match="beyond the latest checkpoint"):
        audit_log.prove_inclusion(0, 6)
    with pytest.raises(InvalidProofRequest, match="beyond the latest checkpoint"):
        audit_log.prove_consistency(1, 7)
    with pytest.raises(InvalidProofRequest):
        audit_log.prove_inclusion(5, 5)
    with pytest.raises(InvalidLeafRange):
        audit_log.leaves(0, 6)
    with pytest.raises(InvalidLeafRange):
        audit_log.leaves(3, 3)
    with pytest.raises(InvalidLeafRange):
        audit_log.leaves(0, MAX_LEAVES_PAGE + 1)


def test_no_checkpoint_before_the_first_is_signed(migrated: Settings) -> None:
    engine = make_engine(migrated.resolved_database_url)
    audit_log = AuditLog(
        engine, origin="test.example/log", log_key=load_keys(migrated).log, interval=60
    )
    with pytest.raises(CheckpointNotPublished):
        audit_log.checkpoint()
    audit_log.close()
    engine.dispose()
