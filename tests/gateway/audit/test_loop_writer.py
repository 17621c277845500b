"""PostgreSQL: the log's batches written on the event loop (LoopLogStore over LoopWrites): the
same rows, openings and settlements as the thread writes, with no thread; two processes' batches
in turn continue one tree; the entries submitted while a batch waits for the lock join it; a
settlement with no statements of its own for the loop, or whose statements the server refuses,
sends the batch to the thread, whose outcome is the batch's; a connection lost while idle is
replaced; a batch that fails after taking the lock fails closed and releases it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, bindparam, func, insert, select, text
from sqlmodel import Session

from audit.errors import AuditUnavailable
from audit.memory import MemoryLogStore
from audit.merkle import leaf_hash
from audit.sequencer import Batch
from audit.tlog import stored_hash_count
from gateway.audit_log import repository
from gateway.audit_log.models import OPENINGS
from gateway.audit_log.repository import (
    Companion,
    LoopLogStore,
    Openings,
    SqlLogStore,
    iter_hashes,
    iter_leaves,
    latest_checkpoint_size,
    read_openings,
)
from gateway.audit_log.service import running_audit_log
from gateway.keys import load_keys
from gateway.oauth.models import RevokedToken
from gateway.settings import Settings
from gateway.storage import migrate
from gateway.storage.db import make_engine
from gateway.storage.reads import LoopWrites, Query, execute_in
from tests.audit.factories import distinct_leaves
from tests.gateway.audit.factories import append_entries, batch_of, entry, traces
from tests.services import postgres_schema

T = TypeVar("T")
_REVOKED = RevokedToken.__table__  # type: ignore[attr-defined]
# Settlements' statements at the driver level: a trace of the leaf, or of the server's session.
_TRACE = Query(insert(_REVOKED).values(jti=bindparam("jti"), expires_at=bindparam("now")))
_BACKEND = Query(
    insert(_REVOKED).values(
        jti=func.concat("backend ", func.pg_backend_pid()), expires_at=bindparam("now")
    )
)
_DIVIDED_BY_ZERO = Query(text("SELECT 1 / 0"))


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def local(engine: Engine) -> Iterator[SqlLogStore]:
    store = SqlLogStore(engine)
    yield store
    store.close()


@pytest.fixture
def in_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The batches written in a thread (:meth:`SqlLogStore.append_pending`: the sequencer's
    thread's, or the loop's sent there), by size."""
    written: list[int] = []
    real = SqlLogStore.append_pending

    def counted(self: SqlLogStore, pending: Any) -> int:
        assert threading.current_thread() is not threading.main_thread()
        written.append(len(pending.batch.leaves))
        return real(self, pending)

    monkeypatch.setattr(SqlLogStore, "append_pending", counted)
    return written


def on_a_loop(
    engine: Engine, local: SqlLogStore, scenario: Callable[[LoopLogStore], Awaitable[T]]
) -> T:
    async def run() -> T:
        store = LoopLogStore(local, LoopWrites(engine))
        try:
            return await scenario(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _none() -> Batch:
    return Batch((), ())


@dataclass(frozen=True)
class _Traced:
    """A settlement at the driver level, as a counted use: on the loop in the statements of its
    ``settle_in_one``, in the thread in one of its own; each leaves a trace of its leaf."""

    def __call__(self, session: Session, leaf_index: int) -> None:
        execute_in(session, _TRACE, jti=f"{leaf_index} in a thread", now=datetime.now(UTC))

    @staticmethod
    def settle_in_one(settlements: Sequence[tuple[int, Any]]) -> list[tuple[Query, Any]]:
        now = datetime.now(UTC)
        return [(_TRACE, {"jti": f"{index} on the loop", "now": now}) for index, _ in settlements]


@dataclass(frozen=True)
class _Backend(_Traced):
    """Leaves the process id of the server's session that wrote it."""

    @staticmethod
    def settle_in_one(settlements: Sequence[tuple[int, Any]]) -> list[tuple[Query, Any]]:
        return [(_BACKEND, {"now": datetime.now(UTC)})]


@dataclass(frozen=True)
class _Refused(_Traced):
    """Its statement on the loop fails on the server, as a use no grant covers fails."""

    @staticmethod
    def settle_in_one(settlements: Sequence[tuple[int, Any]]) -> list[tuple[Query, Any]]:
        return [(_DIVIDED_BY_ZERO, {})]


_traced, _backend = _Traced(), _Backend()


def _through_the_session(session: Session, leaf_index: int) -> None:
    """A settlement through SQLAlchemy's session: the thread writes its batch."""
    session.execute(
        insert(RevokedToken).values(
            jti=f"{leaf_index} by the session", expires_at=datetime.now(UTC)
        )
    )


def _raises(session: Session, leaf_index: int) -> None:
    _traced(session, leaf_index)
    raise OSError("the disk is full")


def _alive(engine: Engine, pid: int) -> bool:
    """Whether the server's session ``pid`` is still there."""
    with engine.connect() as connection:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        return bool(connection.execute(query, {"pid": pid}).scalar_one())


def test_batches_written_on_the_loop_are_what_the_thread_writes(
    engine: Engine, local: SqlLogStore, in_threads: list[int]
) -> None:
    leaves = distinct_leaves(40)
    opening = Openings(b"s" * 32, b"r" * 32, "subject-key")
    local.expect(leaf_hash(leaves[3]), Companion(opening, _traced))
    local.expect(leaf_hash(leaves[20]), Companion(settlement=_traced))

    async def appended(store: LoopLogStore) -> list[int]:
        parts = [(0, 1), (1, 9), (9, 40)]
        return [await store.append_batch(batch_of(leaves[lo:hi]), _none) for lo, hi in parts]

    assert on_a_loop(engine, local, appended) == [0, 1, 9]
    memory = MemoryLogStore()
    memory.append_batch(batch_of(leaves))
    assert list(iter_leaves(engine, 40)) == leaves
    assert list(iter_hashes(engine, stored_hash_count(40))) == memory.hashes()
    with engine.connect() as connection:
        assert read_openings(connection, 3) == opening
        assert connection.execute(select(OPENINGS.c.leaf_index)).scalars().all() == [3]
    assert traces(engine) == ["20 on the loop", "3 on the loop"]
    assert in_threads == []
    for hashed in batch_of(leaves).leaf_hashes:
        local.settled(hashed)


def test_two_processes_writing_in_turn_continue_each_other_s_tree(engine: Engine) -> None:
    """Each batch follows the other store's: the frontier of the tree is read with the size,
    under the lock, not taken from what the store wrote itself."""
    leaves = distinct_leaves(23)
    stores = [SqlLogStore(engine), SqlLogStore(engine)]

    async def appended(first: LoopLogStore) -> list[int]:
        second = LoopLogStore(stores[1], LoopWrites(engine))
        try:
            parts = [(0, 3), (3, 4), (4, 9), (9, 16), (16, 17), (17, 23)]
            turns = [first, second] * 3
            return [
                await store.append_batch(batch_of(leaves[lo:hi]), _none)
                for store, (lo, hi) in zip(turns, parts, strict=True)
            ]
        finally:
            await second.close()

    try:
        assert on_a_loop(engine, stores[0], appended) == [0, 3, 4, 9, 16, 17]
    finally:
        for store in stores:
            store.close()
    memory = MemoryLogStore()
    memory.append_batch(batch_of(leaves))
    assert list(iter_leaves(engine, 23)) == leaves
    assert list(iter_hashes(engine, stored_hash_count(23))) == memory.hashes()


def test_the_entries_asked_for_under_the_lock_join_the_batch(
    engine: Engine, local: SqlLogStore
) -> None:
    leaves = distinct_leaves(5)
    asked: list[bool] = []

    def more() -> Batch:
        asked.append(True)
        return batch_of(leaves[2:])

    async def appended(store: LoopLogStore) -> int:
        return await store.append_batch(batch_of(leaves[:2]), more)

    assert on_a_loop(engine, local, appended) == 0
    assert asked == [True]
    assert list(iter_leaves(engine, 5)) == leaves


def test_a_settlement_the_loop_cannot_write_sends_the_batch_to_the_thread(
    engine: Engine, local: SqlLogStore, in_threads: list[int]
) -> None:
    """Its outcome is the batch's: every settlement run again there, the failing one failing
    its entry alone; the loop's transaction rolled back first (it held the lock the thread
    takes), and the loop's connection kept for the next batch."""
    leaves = distinct_leaves(6)
    local.expect(leaf_hash(leaves[0]), Companion(settlement=_traced))
    local.expect(leaf_hash(leaves[1]), Companion(settlement=_through_the_session))
    local.expect(leaf_hash(leaves[2]), Companion(settlement=_raises))
    local.expect(leaf_hash(leaves[4]), Companion(settlement=_traced))

    async def appended(store: LoopLogStore) -> list[int]:
        first = await store.append_batch(batch_of(leaves[:3]), _none)
        return [first, await store.append_batch(batch_of(leaves[3:]), _none)]

    assert on_a_loop(engine, local, appended) == [0, 3]
    assert in_threads == [3]  # the first batch only
    assert traces(engine) == ["0 in a thread", "1 by the session", "4 on the loop"]
    assert list(iter_leaves(engine, 6)) == leaves
    local.settled(leaf_hash(leaves[0]))
    local.settled(leaf_hash(leaves[1]))
    with pytest.raises(AuditUnavailable):
        local.settled(leaf_hash(leaves[2]))


def test_a_settlement_refused_on_the_server_rolls_the_loop_back_and_the_thread_writes_it(
    engine: Engine, local: SqlLogStore, in_threads: list[int]
) -> None:
    """The loop's COMMIT, sent with the refused statement, rolled back: nothing of the loop's
    is written; the thread writes the batch, each settlement in a statement of its own; the
    loop's connection serves the next batch."""
    leaves = distinct_leaves(4)
    local.expect(leaf_hash(leaves[0]), Companion(settlement=_traced))
    local.expect(leaf_hash(leaves[1]), Companion(settlement=_Refused()))
    local.expect(leaf_hash(leaves[3]), Companion(settlement=_traced))

    async def appended(store: LoopLogStore) -> list[int]:
        first = await store.append_batch(batch_of(leaves[:2]), _none)
        return [first, await store.append_batch(batch_of(leaves[2:]), _none)]

    assert on_a_loop(engine, local, appended) == [0, 2]
    assert in_threads == [2]
    assert traces(engine) == ["0 in a thread", "1 in a thread", "3 on the loop"]
    assert list(iter_leaves(engine, 4)) == leaves
    for hashed in batch_of(leaves).leaf_hashes:
        local.settled(hashed)


def test_a_connection_lost_while_idle_is_replaced(engine: Engine, local: SqlLogStore) -> None:
    leaves = distinct_leaves(3)
    local.expect(leaf_hash(leaves[0]), Companion(settlement=_backend))

    async def appended(store: LoopLogStore) -> list[int]:
        first = await store.append_batch(batch_of(leaves[:1]), _none)
        (backend,) = traces(engine)
        with engine.connect() as connection:  # the server ends the loop's session
            ended = connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": int(backend.split()[-1])}
            )
            assert ended.scalar_one() is True
        await asyncio.sleep(0.2)
        return [first, await store.append_batch(batch_of(leaves[1:]), _none)]

    assert on_a_loop(engine, local, appended) == [0, 1]
    assert list(iter_leaves(engine, 3)) == leaves


def test_a_batch_that_fails_under_the_lock_fails_closed_and_releases_it(
    engine: Engine, local: SqlLogStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaves = distinct_leaves(3)
    local.expect(leaf_hash(leaves[0]), Companion(settlement=_backend))

    def broken(*_: object) -> dict[str, object]:
        raise OSError("the batch's rows could not be built")

    async def appended(store: LoopLogStore) -> list[int]:
        first = await store.append_batch(batch_of(leaves[:1]), _none)
        (backend,) = traces(engine)
        loops = int(backend.split()[-1])
        assert _alive(engine, loops)
        with monkeypatch.context() as patched:
            patched.setattr(repository, "_batch_parameters", broken)
            with pytest.raises(OSError, match="could not be built"):
                await store.append_batch(batch_of(leaves[1:2]), _none)
        # Its connection closed, and the lock with it: the thread's batch does not wait.
        in_thread = await asyncio.wait_for(
            asyncio.to_thread(local.append_batch, batch_of(leaves[2:])), timeout=10
        )
        for _ in range(50):  # the server's session ends a moment after the client's
            if not _alive(engine, loops):
                break
            await asyncio.sleep(0.1)
        assert not _alive(engine, loops)
        return [first, in_thread]

    assert on_a_loop(engine, local, appended) == [0, 1]
    assert list(iter_leaves(engine, 2)) == [leaves[0], leaves[2]]


def test_a_log_served_on_a_loop_writes_its_awaited_appends_there_and_the_rest_in_the_thread(
    url: str, tmp_path: Path, engine: Engine, in_threads: list[int]
) -> None:
    """One log, contiguous, every entry written before it closes; a clean stop signs it."""
    settings = Settings(var_dir=tmp_path / "var", database_url=url, _env_file=None)

    async def served() -> tuple[list[int], list[int]]:
        with running_audit_log(engine, settings, load_keys(settings), "process") as audit_log:
            awaited = [audit_log.append_async(*entry(n), _traced) for n in range(30)]
            from_threads = asyncio.to_thread(append_entries, audit_log, 10, 30)
            on_loop, threads = await asyncio.gather(asyncio.gather(*awaited), from_threads)
            await audit_log.close_on_loop()
            with pytest.raises(AuditUnavailable, match="shut down"):
                await audit_log.append_async(*entry(40))
        return [appended.leaf_index for appended in on_loop], threads

    on_loop, threads = asyncio.run(served())
    assert sorted(on_loop + threads) == list(range(40))
    assert sum(in_threads) == 10  # the threads' entries; the loop's were all written there
    assert sorted(traces(engine)) == sorted(f"{index} on the loop" for index in on_loop)
    with engine.connect() as connection:
        assert latest_checkpoint_size(connection) == 40
        assert all(read_openings(connection, index) is not None for index in range(40))
