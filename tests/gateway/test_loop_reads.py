"""PostgreSQL's reads awaited on an event loop (:class:`gateway.storage.reads.LoopReads`): the
reads made while one is in flight go to the server together, in one round trip, each answered
with its own rows or its own error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from gateway.storage.db import make_engine
from gateway.storage.reads import LoopReads
from tests.services import postgres_schema

SLOW = "SELECT pg_sleep(0.3)::text, 0"
VALUE = "SELECT pg_backend_pid(), %s::int"
DIVIDED = "SELECT pg_backend_pid(), 1 / %s::int"


@pytest.fixture
def engine() -> Iterator[Engine]:
    with postgres_schema() as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def pipelines(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many pipelines the reads opened (each one round trip for its group)."""
    opened: list[int] = []
    real = psycopg.AsyncConnection.pipeline

    def counted(self: psycopg.AsyncConnection[Any]) -> AbstractAsyncContextManager[Any]:
        opened.append(1)
        return real(self)

    monkeypatch.setattr(psycopg.AsyncConnection, "pipeline", counted)
    return opened


def _reads(engine: Engine) -> LoopReads:
    return LoopReads(engine, psycopg.OperationalError)


async def _together(reads: LoopReads, statements: list[tuple[str, Any]]) -> list[Any]:
    """A slow read in flight, then ``statements`` read while it is: their outcomes."""
    slow = asyncio.ensure_future(reads.fetch_all(SLOW, None))
    await asyncio.sleep(0.1)  # the slow read is on the server
    outcomes = await asyncio.gather(
        *(reads.fetch_all(sql, parameters) for sql, parameters in statements),
        return_exceptions=True,
    )
    assert await slow == [("", 0)]
    await reads.close()
    return outcomes


def test_reads_made_while_one_is_in_flight_share_the_next_round_trip(
    engine: Engine, pipelines: list[int]
) -> None:
    reads = _reads(engine)
    outcomes = asyncio.run(_together(reads, [(VALUE, (n,)) for n in range(6)]))
    assert [value for [(_, value)] in outcomes] == list(range(6))  # each its own rows
    assert len({pid for [(pid, _)] in outcomes}) == 1  # one connection
    assert pipelines == [1]  # the six in one group


def test_a_lone_read_is_sent_on_its_own(engine: Engine, pipelines: list[int]) -> None:
    async def one_after_the_other() -> list[Any]:
        reads = _reads(engine)
        rows = [await reads.fetch_all(VALUE, (n,)) for n in range(3)]
        await reads.close()
        return rows

    rows = asyncio.run(one_after_the_other())
    assert [value for [(_, value)] in rows] == [0, 1, 2]
    assert pipelines == []


def test_a_statement_that_fails_in_a_group_fails_its_own_read_only(
    engine: Engine, pipelines: list[int]
) -> None:
    """A pipeline's failed statement aborts the ones after it: the group is read again one by
    one, and each read has its own outcome."""
    reads = _reads(engine)
    statements = [(VALUE, (1,)), (DIVIDED, (0,)), (VALUE, (3,)), (DIVIDED, (4,))]
    first, failed, third, fourth = asyncio.run(_together(reads, statements))
    assert isinstance(failed, psycopg.errors.DivisionByZero)
    assert [first[0][1], third[0][1], fourth[0][1]] == [1, 3, 0]
    assert pipelines == [1]


def test_a_group_on_a_connection_the_server_closed_is_read_again_on_a_new_one(
    engine: Engine,
) -> None:
    async def around_a_termination() -> tuple[int, list[Any]]:
        reads = _reads(engine)
        [(before, _)] = await reads.fetch_all(VALUE, (0,))
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
        rows = await asyncio.gather(*(reads.fetch_all(VALUE, (n,)) for n in range(3)))
        await reads.close()
        return before, rows

    before, rows = asyncio.run(around_a_termination())
    assert [value for [(_, value)] in rows] == [0, 1, 2]
    assert {pid for [(pid, _)] in rows} != {before}


def test_a_caller_cancelled_while_its_read_waits_leaves_the_others_theirs(
    engine: Engine,
) -> None:
    async def one_cancelled() -> list[Any]:
        reads = _reads(engine)
        slow = asyncio.ensure_future(reads.fetch_all(SLOW, None))
        await asyncio.sleep(0.1)
        waiting = [asyncio.ensure_future(reads.fetch_all(VALUE, (n,))) for n in range(3)]
        await asyncio.sleep(0)
        waiting[1].cancel()
        outcomes = await asyncio.gather(slow, *waiting, return_exceptions=True)
        outcomes.append(await reads.fetch_all(VALUE, (9,)))  # the connection still serves
        await reads.close()
        return outcomes

    slow, first, cancelled, third, after = asyncio.run(one_cancelled())
    assert slow == [("", 0)]
    assert isinstance(cancelled, asyncio.CancelledError)
    assert [first[0][1], third[0][1], after[0][1]] == [0, 2, 9]
