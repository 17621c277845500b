"""SqlLogStore on SQLite and PostgreSQL: the tlog layout, one transaction per batch, openings and
settlements."""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import closing
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, bindparam, insert, select, text
from sqlmodel import Session

from audit.errors import AuditUnavailable
from audit.memory import MemoryLogStore
from audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.sequencer import Batch
from audit.tlog import prove_record, prove_tree, stored_hash_count, tree_hash
from gateway.audit_log.models import HASHES, LEAVES, OPENINGS
from gateway.audit_log.repository import (
    Companion,
    ConnectionHashReader,
    Openings,
    SqlLogStore,
    iter_hashes,
    iter_leaves,
    read_leaves,
    read_openings,
)
from gateway.oauth.models import RevokedToken
from gateway.settings import Settings
from gateway.storage.db import make_engine
from gateway.storage.reads import Query, execute_in
from tests.audit.factories import distinct_leaves, mth
from tests.gateway.audit.factories import batch_of, traces


@pytest.fixture
def engine(migrated: Settings) -> Iterator[Engine]:
    engine = make_engine(migrated.resolved_database_url)
    yield engine
    engine.dispose()


def test_batches_land_contiguously_in_the_tlog_layout(engine: Engine) -> None:
    leaves = distinct_leaves(37)
    store, memory = SqlLogStore(engine), MemoryLogStore()
    starts = []
    for lo, hi in [(0, 1), (1, 8), (8, 9), (9, 30), (30, 37)]:
        starts.append(store.append_batch(batch_of(leaves[lo:hi])))
        memory.append_batch(batch_of(leaves[lo:hi]))
    assert starts == [0, 1, 8, 9, 30]
    assert list(iter_leaves(engine, 37, page=10)) == leaves
    assert list(iter_hashes(engine, stored_hash_count(37), page=10)) == memory.hashes()
    for size in range(38):
        assert tree_hash(size, store) == mth(leaves[:size])
    proof = prove_record(20, 37, store)
    verify_inclusion(leaf_hash(leaves[20]), 20, 37, proof, mth(leaves))
    assert prove_tree(13, 37, store) == prove_tree(13, 37, memory)


def test_a_batch_beyond_one_statement_of_rows_lands_whole(engine: Engine) -> None:
    """A batch whose rows bind more values than one SQLite statement may (the leaves three
    each, the hashes two) is written in several, and lands as one."""
    leaves = distinct_leaves(12_000)
    with_openings = {index: Companion(Openings(bytes([index % 256]) * 16)) for index in (0, 11_999)}
    store, memory = SqlLogStore(engine), MemoryLogStore()
    for index, companion in with_openings.items():
        store.expect(leaf_hash(leaves[index]), companion)
    assert store.append_batch(batch_of(leaves[:5])) == 0
    assert store.append_batch(batch_of(leaves[5:])) == 5
    memory.append_batch(batch_of(leaves))
    assert list(iter_leaves(engine, 12_000, page=5_000)) == leaves
    assert list(iter_hashes(engine, stored_hash_count(12_000), page=5_000)) == memory.hashes()
    with engine.connect() as connection:
        assert read_openings(connection, 11_999) == with_openings[11_999].openings
    assert tree_hash(12_000, store) == mth(leaves)


def test_two_stores_on_one_database_share_one_sequence(engine: Engine, migrated: Settings) -> None:
    other_engine = make_engine(migrated.resolved_database_url)
    first, second = SqlLogStore(engine), SqlLogStore(other_engine)
    leaves = distinct_leaves(12)
    assert first.append_batch(batch_of(leaves[:5])) == 0
    assert second.append_batch(batch_of(leaves[5:9])) == 5
    assert first.append_batch(batch_of(leaves[9:])) == 9
    other_engine.dispose()
    assert tree_hash(12, first) == mth(leaves)


def test_a_batch_reads_the_frontier_only_after_another_store_wrote(
    engine: Engine, migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store's batch extends the tree from the hashes of its own last batch; after another
    store's (another process's) batch it reads what that one wrote, and the tree is the same."""
    reads: list[list[int]] = []
    read_hashes = ConnectionHashReader.read_hashes

    def counted(reader: ConnectionHashReader, indexes: list[int]) -> list[bytes]:
        reads.append(list(indexes))
        return read_hashes(reader, indexes)

    monkeypatch.setattr(ConnectionHashReader, "read_hashes", counted)
    other_engine = make_engine(migrated.resolved_database_url)
    first, second = SqlLogStore(engine), SqlLogStore(other_engine)
    leaves = distinct_leaves(21)
    for lo, hi in [(0, 5), (5, 9), (9, 16)]:
        first.append_batch(batch_of(leaves[lo:hi]))
    assert reads == []
    second.append_batch(batch_of(leaves[16:19]))  # the frontier of 16 leaves: one subtree
    assert reads == [[stored_hash_count(16) - 1]]
    first.append_batch(batch_of(leaves[19:]))  # only what the other store wrote is read
    assert reads[1:] and all(index >= stored_hash_count(16) for index in reads[1])
    other_engine.dispose()
    assert tree_hash(21, first) == tree_hash(21, second) == mth(leaves)


def test_a_failing_batch_writes_nothing(engine: Engine) -> None:
    store = SqlLogStore(engine)
    leaves = distinct_leaves(6)
    store.append_batch(batch_of(leaves[:2]))
    with engine.begin() as connection:  # squat on a hash index the next batch must write
        connection.execute(insert(HASHES), {"hash_index": stored_hash_count(4), "hash": b"x"})
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        store.append_batch(batch_of(leaves[2:6]))
    with engine.connect() as connection:
        assert connection.execute(select(LEAVES.c.leaf_index)).scalars().all() == [0, 1]


def test_missing_stored_hashes_raise_rather_than_misalign(engine: Engine) -> None:
    store = SqlLogStore(engine)
    store.append_batch(batch_of(distinct_leaves(4)))
    assert len(store.read_hashes([0, 1, 2])) == 3
    with pytest.raises(AuditUnavailable):
        store.read_hashes([0, stored_hash_count(4)])


def test_proofs_read_through_the_hash_cache_verify_as_the_log_grows(engine: Engine) -> None:
    """Hashes read at one size are served again at larger ones, across the cache's turnovers
    (a generation of 8): only stored hashes are kept, never the edge of a growing tree."""
    store = SqlLogStore(engine, cached_hashes=8)
    leaves = distinct_leaves(45)
    for lo, hi in [(0, 3), (3, 16), (16, 17), (17, 45)]:
        store.append_batch(batch_of(leaves[lo:hi]))
        root = mth(leaves[:hi])
        for index in range(hi):
            proof = prove_record(index, hi, store)
            verify_inclusion(leaf_hash(leaves[index]), index, hi, proof, root)
        for size in range(1, hi):
            proof = prove_tree(size, hi, store)
            verify_consistency(size, hi, proof, mth(leaves[:size]), root)


def test_proofs_read_by_threads_at_once_and_after_dispose_verify(engine: Engine) -> None:
    """Threads proving at once share the store (on SQLite each reads through a connection of
    its own, kept); once the engine is disposed - the kept connections closed - it reads
    again."""
    store = SqlLogStore(engine, cached_hashes=8)
    leaves = distinct_leaves(64)
    store.append_batch(batch_of(leaves))
    root = mth(leaves)

    def prove_all(_: int = 0) -> None:
        for index, leaf in enumerate(leaves):
            verify_inclusion(leaf_hash(leaf), index, 64, prove_record(index, 64, store), root)

    with ThreadPoolExecutor(4) as threads:
        list(threads.map(prove_all, range(8)))
    store = SqlLogStore(engine, cached_hashes=8)  # nothing cached: every proof reads
    engine.dispose()
    prove_all()
    engine.dispose()


def test_openings_are_written_with_their_leaf_and_only_then(engine: Engine) -> None:
    store = SqlLogStore(engine)
    leaves = distinct_leaves(3)
    opening = Openings(b"s" * 32, b"r" * 32)
    store.expect(leaf_hash(leaves[1]), Companion(opening))
    store.expect(leaf_hash(b"never appended"), Companion(Openings(b"t" * 32)))
    store.append_batch(batch_of(leaves))
    with engine.connect() as connection:
        assert read_openings(connection, 1) == opening
        assert connection.execute(select(OPENINGS.c.leaf_index)).scalars().all() == [1]
    store.forget(leaf_hash(b"never appended"))
    store.append_batch(batch_of([b"never appended"]))
    with engine.connect() as connection:
        assert read_openings(connection, 3) is None


def _settled(session: Session, leaf_index: int) -> None:
    """A settlement that leaves a trace of its leaf's index."""
    expires_at = datetime.now(UTC)
    session.execute(insert(RevokedToken).values(jti=f"settled {leaf_index}", expires_at=expires_at))


def test_settlements_are_written_in_the_transaction_of_their_leaf(engine: Engine) -> None:
    store = SqlLogStore(engine)
    leaves = distinct_leaves(4)
    store.append_batch(batch_of(leaves[:1]))
    store.expect(leaf_hash(leaves[2]), Companion(settlement=_settled))
    store.expect(leaf_hash(leaves[3]), Companion(Openings(b"s" * 32), _settled))
    assert store.append_batch(batch_of(leaves[1:])) == 1
    assert traces(engine) == ["settled 2", "settled 3"]
    with engine.connect() as connection:
        assert connection.execute(select(OPENINGS.c.leaf_index)).scalars().all() == [3]


_TRACE = Query(
    insert(RevokedToken).values(jti=bindparam("jti"), expires_at=bindparam("expires_at"))
)


def _raises(session: Session, leaf_index: int) -> None:
    _settled(session, leaf_index)
    raise OSError("the disk is full")


def _refused_by_the_database(session: Session, _leaf_index: int) -> None:
    """Writes at the driver level (:func:`execute_in`, which the session does not see) the
    trace leaf 0's settlement wrote: the key is refused, and on PostgreSQL the refusal aborts
    the transaction unless a savepoint was set before the statement."""
    execute_in(session, _TRACE, jti="settled 0", expires_at=datetime.now(UTC))


@pytest.mark.parametrize("failing", [_raises, _refused_by_the_database])
def test_a_failing_settlement_fails_its_own_entry_only(
    engine: Engine, failing: Callable[[Session, int], None]
) -> None:
    """Its writes are undone and its entry reported failed; the batch, the other entries and
    their settlements are written (one failure does not fail unrelated inquiries)."""
    store = SqlLogStore(engine)
    leaves = distinct_leaves(3)
    store.expect(leaf_hash(leaves[0]), Companion(Openings(b"s" * 32), _settled))
    store.expect(leaf_hash(leaves[1]), Companion(settlement=failing))
    store.expect(leaf_hash(leaves[2]), Companion(settlement=_settled))
    assert store.append_batch(batch_of(leaves)) == 0
    store.settled(leaf_hash(leaves[0]))
    with pytest.raises(AuditUnavailable):
        store.settled(leaf_hash(leaves[1]))
    store.settled(leaf_hash(leaves[2]))
    assert traces(engine) == ["settled 0", "settled 2"]
    with engine.connect() as connection:
        assert connection.execute(select(LEAVES.c.leaf_index)).scalars().all() == [0, 1, 2]
        assert connection.execute(select(OPENINGS.c.leaf_index)).scalars().all() == [0]


def test_a_batch_whose_transaction_ended_under_it_is_refused_not_committed(
    engine: Engine,
) -> None:
    """A statement of the batch failed and was swallowed (PostgreSQL: the transaction is
    aborted), or the database rolled it back itself (SQLite, on a full disk): the driver's
    commit would return as if it had committed. The batch is refused and nothing of it is
    written."""
    store = SqlLogStore(engine)
    leaves = distinct_leaves(2)

    def end_the_transaction(session: Session, _leaf_index: int) -> None:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        with closing(dbapi.cursor()) as cursor:
            if engine.dialect.name == "sqlite":
                cursor.execute("ROLLBACK")
            else:
                with contextlib.suppress(Exception):
                    cursor.execute("SELECT 1 / 0")

    store.expect(leaf_hash(leaves[1]), Companion(settlement=end_the_transaction))
    with pytest.raises(AuditUnavailable, match="nothing was written"):
        store.append_batch(batch_of(leaves))
    with engine.connect() as connection:
        assert connection.execute(select(LEAVES.c.leaf_index)).scalars().all() == []
    assert store.append_batch(batch_of(leaves[:1])) == 0  # the next batch is written


def test_entries_asked_for_under_the_lock_are_written_with_the_batch_and_their_own(
    engine: Engine, migrated: Settings
) -> None:
    """``more`` is asked once the log's lock is held - another writer cannot take it then -
    and once only, though a failed settlement has the batch written twice (the other writer
    may take the lock in between); what it returns lands after the batch, with its openings
    and settlements."""
    store = SqlLogStore(engine)
    leaves = distinct_leaves(5)
    store.append_batch(batch_of(leaves[:1]))
    other_engine = make_engine(migrated.resolved_database_url)
    other, pool = SqlLogStore(other_engine), ThreadPoolExecutor(1)
    waiting: list[Future[int]] = []

    def more() -> Batch:
        waiting.append(pool.submit(other.append_batch, batch_of([b"other writer"])))
        assert not wait(waiting, timeout=0.5).done  # the other writer waits for the lock
        return batch_of(leaves[3:])

    def failing(session: Session, leaf_index: int) -> None:
        raise OSError(f"settlement of {leaf_index} failed")

    store.expect(leaf_hash(leaves[2]), Companion(settlement=failing))
    store.expect(leaf_hash(leaves[4]), Companion(Openings(b"s" * 32), _settled))
    start = store.append_batch(batch_of(leaves[1:3]), more)
    assert len(waiting) == 1
    other_start = waiting[0].result(timeout=30)
    pool.shutdown()
    other_engine.dispose()
    assert (start, other_start) in {(1, 5), (2, 1)}
    written = list(leaves)
    written.insert(other_start, b"other writer")
    assert list(iter_leaves(engine, 6)) == written
    assert tree_hash(6, store) == mth(written)
    with pytest.raises(AuditUnavailable):
        store.settled(leaf_hash(leaves[2]))
    store.settled(leaf_hash(leaves[4]))
    assert traces(engine) == [f"settled {start + 3}"]
    with engine.connect() as connection:
        assert connection.execute(select(OPENINGS.c.leaf_index)).scalars().all() == [start + 3]


def test_batches_go_on_one_kept_connection_which_is_replaced_when_lost(engine: Engine) -> None:
    """The batches reuse one connection (no pool check-out, no ping, per batch), each still
    one transaction under the log's lock; on PostgreSQL, a kept connection the server closed
    while it was idle is replaced before anything is written, and the batch is not lost."""
    store = SqlLogStore(engine)
    leaves = distinct_leaves(6)
    assert store.append_batch(batch_of(leaves[:2])) == 0
    kept = store._batches
    assert store.append_batch(batch_of(leaves[2:4])) == 2
    assert store._batches is kept
    assert kept is not None and not kept.in_transaction()
    if engine.dialect.name == "postgresql":
        assert kept.get_isolation_level() == "READ COMMITTED"  # not left in autocommit
        pid = kept.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    assert store.append_batch(batch_of(leaves[4:])) == 4
    assert (store._batches is kept) == (engine.dialect.name == "sqlite")  # replaced if lost
    with engine.connect() as connection:
        assert read_leaves(connection, 0, 6) == leaves
    store.close()


def test_the_batches_connection_accumulates_nothing_from_one_batch_to_the_next(
    engine: Engine,
) -> None:
    """The connection the batches are written on is kept for the process's life: what a batch
    sets on it must not queue anything for the connection's return to the pool, which it never
    reaches (its isolation level set and reset for every batch once queued both undoings each
    time: the process grew a batch at a time, and each full garbage collection with it)."""
    store = SqlLogStore(engine)
    leaves = distinct_leaves(41)
    store.append_batch(batch_of(leaves[:1]))
    queued = _undoings()
    for index in range(1, 41):
        store.append_batch(batch_of(leaves[index : index + 1]))
    assert _undoings() == queued
    assert tree_hash(41, store) == mth(leaves)


def _undoings() -> int:
    """The changes of a connection's settings waiting to be undone at its return to the pool
    (SQLAlchemy's ``_reset_characteristics``), in the whole process."""
    return sum(
        1
        for found in gc.get_objects()
        if isinstance(found, functools.partial)
        and getattr(found.func, "__name__", "") == "_reset_characteristics"
    )
