"""The log's batches written by a process of their own on SQLite (ProcessLogStore), awaited on
the event loop: the same rows, openings and settlements as a thread writes, in another process;
outcomes reported back; a closure written in the serving process; a writer that dies fails its
batch closed and is replaced; a log serving on a loop sends what is awaited there to the process
and writes what threads append itself, in one contiguous log."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
import uvloop
from sqlalchemy import Engine, insert, select
from sqlmodel import Session

from audit.errors import AuditUnavailable
from audit.memory import MemoryLogStore
from audit.merkle import leaf_hash
from audit.tlog import stored_hash_count
from consent.errors import InquiryDeniedError, Reason
from gateway.audit_log.models import OPENINGS
from gateway.audit_log.repository import (
    Companion,
    Openings,
    SqlLogStore,
    iter_hashes,
    iter_leaves,
    latest_checkpoint_size,
    read_openings,
)
from gateway.audit_log.service import running_audit_log
from gateway.audit_log.writer import STOP_TIMEOUT, ProcessLogStore
from gateway.keys import load_keys
from gateway.oauth.models import RevokedToken
from gateway.settings import Settings
from gateway.storage import migrate
from gateway.storage.db import make_engine
from tests.audit.factories import distinct_leaves
from tests.gateway.audit.factories import append_entries, batch_of, entry, traces

T = TypeVar("T")


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def local(engine: Engine) -> SqlLogStore:
    return SqlLogStore(engine)


@pytest.fixture
def writer(local: SqlLogStore, url: str) -> Iterator[ProcessLogStore]:
    writer = ProcessLogStore(local, url)
    yield writer
    writer.close()


LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,  # the server's, which keeps a socket of its own
}


def on_a_loop(
    scenario: Callable[[], Awaitable[T]],
    loop: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> T:
    """``scenario`` on one event loop, as the serving process runs the writer's batches."""

    async def run() -> T:
        return await scenario()

    with asyncio.Runner(loop_factory=loop or asyncio.new_event_loop) as runner:
        return runner.run(run())


def _settled(session: Session, leaf_index: int) -> None:
    """Leaves a trace of its leaf's index and of the process that wrote it."""
    trace = f"{leaf_index} by {os.getpid()}"
    session.execute(insert(RevokedToken).values(jti=trace, expires_at=datetime.now(UTC)))


def _raises(session: Session, leaf_index: int) -> None:
    _settled(session, leaf_index)
    raise OSError("the disk is full")


@dataclass
class _Refusing:
    """A settlement that reports its outcome on itself, as a counted use reports its denial."""

    denial: InquiryDeniedError | None = None
    settled_by: int = 0

    def __call__(self, session: Session, leaf_index: int) -> None:
        self.settled_by = os.getpid()
        self.denial = InquiryDeniedError(
            f"leaf {leaf_index}: no uses left", reason=Reason.EXHAUSTED, article="Art. 61(2)"
        )


def test_the_writer_process_writes_what_a_thread_would(
    writer: ProcessLogStore, local: SqlLogStore, engine: Engine
) -> None:
    leaves = distinct_leaves(40)
    opening = Openings(b"s" * 32, b"r" * 32, "subject-key")
    local.expect(leaf_hash(leaves[3]), Companion(opening, _settled))
    local.expect(leaf_hash(leaves[20]), Companion(settlement=_settled))
    memory = MemoryLogStore()

    async def appended() -> list[int]:
        parts = [(0, 1), (1, 9), (9, 40)]
        return [await writer.append_batch(batch_of(leaves[lo:hi])) for lo, hi in parts]

    starts = on_a_loop(appended)
    memory.append_batch(batch_of(leaves))
    assert starts == [0, 1, 9]
    assert list(iter_leaves(engine, 40)) == leaves
    assert list(iter_hashes(engine, stored_hash_count(40))) == memory.hashes()
    with engine.connect() as connection:
        assert read_openings(connection, 3) == opening
        assert connection.execute(select(OPENINGS.c.leaf_index)).scalars().all() == [3]
    writers = {trace.split(" by ")[1] for trace in traces(engine)}
    assert [trace.split(" by ")[0] for trace in traces(engine)] == ["20", "3"]
    assert len(writers) == 1 and str(os.getpid()) not in writers
    for hashed in batch_of(leaves).leaf_hashes:
        local.settled(hashed)


def test_a_settlement_comes_back_as_settled_and_a_failing_one_fails_its_entry_alone(
    writer: ProcessLogStore, local: SqlLogStore, engine: Engine
) -> None:
    leaves = distinct_leaves(3)
    refusing = _Refusing()
    local.expect(leaf_hash(leaves[0]), Companion(settlement=refusing))
    local.expect(leaf_hash(leaves[1]), Companion(settlement=_raises))
    local.expect(leaf_hash(leaves[2]), Companion(settlement=_settled))
    assert on_a_loop(lambda: writer.append_batch(batch_of(leaves))) == 0
    assert refusing.settled_by not in (0, os.getpid())
    assert refusing.denial is not None
    assert refusing.denial.to_problem()["reason"] == "exhausted"
    assert refusing.denial.detail == "leaf 0: no uses left"
    local.settled(leaf_hash(leaves[0]))
    with pytest.raises(AuditUnavailable):
        local.settled(leaf_hash(leaves[1]))
    local.settled(leaf_hash(leaves[2]))
    assert [trace.split(" by ")[0] for trace in traces(engine)] == ["2"]


def test_a_settlement_that_cannot_cross_processes_is_written_here(
    writer: ProcessLogStore, local: SqlLogStore, engine: Engine
) -> None:
    leaves = distinct_leaves(4)
    marks: list[int] = []

    def closure(session: Session, leaf_index: int) -> None:
        marks.append(leaf_index)
        _settled(session, leaf_index)

    async def appended() -> list[int]:
        first = await writer.append_batch(batch_of(leaves[:2]))
        local.expect(leaf_hash(leaves[3]), Companion(settlement=closure))
        return [first, await writer.append_batch(batch_of(leaves[2:]))]

    assert on_a_loop(appended) == [0, 2]
    assert marks == [3]
    assert traces(engine) == [f"3 by {os.getpid()}"]
    assert list(iter_leaves(engine, 4)) == leaves


def test_a_writer_that_dies_fails_its_batch_closed_and_the_next_starts_another(
    writer: ProcessLogStore, engine: Engine
) -> None:
    leaves = distinct_leaves(3)

    async def appended() -> list[int]:
        first = await writer.append_batch(batch_of(leaves[:1]))
        (child,) = [p for p in multiprocessing.active_children() if p.name == "audit-writer"]
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        with pytest.raises(AuditUnavailable, match="writer process stopped"):
            await writer.append_batch(batch_of(leaves[1:2]))
        return [first, await writer.append_batch(batch_of(leaves[2:]))]

    assert on_a_loop(appended) == [0, 1]
    assert list(iter_leaves(engine, 2)) == [leaves[0], leaves[2]]


def test_a_refusal_crosses_processes_whole() -> None:
    refusal = InquiryDeniedError(
        "the consent changed", reason=Reason.CONCURRENT_CHANGE, article="Art. 61(2)"
    )
    copied = pickle.loads(pickle.dumps(refusal))
    assert type(copied) is InquiryDeniedError
    assert copied.to_problem() == refusal.to_problem()
    assert copied.reason is Reason.CONCURRENT_CHANGE and copied.args == refusal.args


def test_the_writer_ignores_the_signals_that_stop_the_server(
    writer: ProcessLogStore, engine: Engine
) -> None:
    """A Ctrl-C reaches the whole process group: the child goes on writing, so the serving
    process's last batches, written as it stops, are written."""
    writer.start()
    (child,) = [p for p in multiprocessing.active_children() if p.name == "audit-writer"]
    assert child.pid is not None
    for stop in (signal.SIGINT, signal.SIGTERM):
        os.kill(child.pid, stop)
    leaves = distinct_leaves(2)
    assert on_a_loop(lambda: writer.append_batch(batch_of(leaves))) == 0
    assert child.is_alive()
    assert list(iter_leaves(engine, 2)) == leaves


@pytest.mark.parametrize("loop", LOOPS)
def test_a_log_served_on_a_loop_sends_its_awaited_appends_to_the_process_and_writes_the_rest(
    url: str, tmp_path: Path, engine: Engine, loop: str
) -> None:
    """Appends awaited on the loop go to the writer process; appends from threads meanwhile are
    written in the serving process; one log, contiguous, every entry written before it closes,
    and the writer ends on its own once the log closes (not killed after the stop timeout)."""
    settings = Settings(var_dir=tmp_path / "var", database_url=url, _env_file=None)

    async def served() -> tuple[multiprocessing.process.BaseProcess, list[int], list[int]]:
        with running_audit_log(engine, settings, load_keys(settings), "process") as audit_log:
            (child,) = [p for p in multiprocessing.active_children() if p.name == "audit-writer"]
            awaited = [audit_log.append_async(*entry(n), _settled) for n in range(30)]
            from_threads = asyncio.to_thread(append_entries, audit_log, 10, 30)
            on_loop, in_threads = await asyncio.gather(asyncio.gather(*awaited), from_threads)
            await audit_log.close_on_loop()
            with pytest.raises(AuditUnavailable, match="shut down"):
                await audit_log.append_async(*entry(40))
        return child, [appended.leaf_index for appended in on_loop], in_threads

    started = time.monotonic()
    child, on_loop, in_threads = on_a_loop(served, LOOPS[loop])
    assert time.monotonic() - started < STOP_TIMEOUT
    assert sorted(on_loop + in_threads) == list(range(40))
    assert child.exitcode == 0
    written_by = {int(index): pid for index, _, pid in map(str.split, traces(engine))}
    assert written_by == {index: str(child.pid) for index in on_loop}
    with engine.connect() as connection:
        assert latest_checkpoint_size(connection) == 40  # signed at the clean stop
        assert all(read_openings(connection, index) is not None for index in range(40))
