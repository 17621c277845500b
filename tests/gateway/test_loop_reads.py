"""PostgreSQL's reads awaited on an event loop (:class:`gateway.storage.reads.LoopReads`): the
reads made while one is in flight go to the server together, in one round trip, each answered
with its own rows or its own error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from gateway.storage.db import make_engine
from gateway.storage.reads import LoopReads, _Pipe
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
def groups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The groups the reads sent, by size (each one round trip)."""
    sent: list[int] = []
    real = _Pipe.read

    async def counted(self: _Pipe, group: Sequence[Any]) -> list[Any]:
        sent.append(len(group))
        return await real(self, group)

    monkeypatch.setattr(_Pipe, "read", counted)
    return sent


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
    engine: Engine, groups: list[int]
) -> None:
    reads = _reads(engine)
    outcomes = asyncio.run(_together(reads, [(VALUE, (n,)) for n in range(6)]))
    assert [value for [(_, value)] in outcomes] == list(range(6))  # each its own rows
    assert len({pid for [(pid, _)] in outcomes}) == 1  # one connection
    assert groups == [1, 6]  # the slow one, then the six in one group


def test_a_lone_read_is_sent_on_its_own(engine: Engine, groups: list[int]) -> None:
    async def one_after_the_other() -> list[Any]:
        reads = _reads(engine)
        rows = [await reads.fetch_all(VALUE, (n,)) for n in range(3)]
        await reads.close()
        return rows

    rows = asyncio.run(one_after_the_other())
    assert [value for [(_, value)] in rows] == [0, 1, 2]
    assert groups == [1, 1, 1]


def test_a_statement_that_fails_in_a_group_fails_its_own_read_only(
    engine: Engine, groups: list[int]
) -> None:
    """Each statement of a group is a transaction of its own: one that fails aborts no other."""
    reads = _reads(engine)
    statements = [(VALUE, (1,)), (DIVIDED, (0,)), (VALUE, (3,)), (DIVIDED, (4,))]
    first, failed, third, fourth = asyncio.run(_together(reads, statements))
    assert isinstance(failed, psycopg.errors.DivisionByZero)
    assert [first[0][1], third[0][1], fourth[0][1]] == [1, 3, 0]
    assert groups == [1, 4]


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


def test_named_parameters_and_a_percent_sign_are_the_servers(engine: Engine) -> None:
    async def named() -> list[Any]:
        reads = _reads(engine)
        rows = [
            await reads.fetch_all("SELECT %(a)s::int + %(b)s::int, %(a)s::int, '100%%'", value)
            for value in ({"a": 1, "b": 2}, {"b": 5, "a": 4})
        ]
        await reads.close()
        return rows

    assert asyncio.run(named()) == [[(3, 1, "100%")], [(9, 4, "100%")]]


def test_a_statement_the_server_cannot_prepare_fails_its_read_each_time_it_is_sent(
    engine: Engine,
) -> None:
    """Its error is the read's own; it is not kept as prepared, the connection serves on."""

    async def twice() -> list[Any]:
        reads = _reads(engine)
        outcomes: list[Any] = []
        for _ in range(2):
            bad = reads.fetch_all("SELECT %s::int FROM no_such_table", (1,))
            good = reads.fetch_all(VALUE, (7,))
            outcomes += await asyncio.gather(bad, good, return_exceptions=True)
        await reads.close()
        return outcomes

    first_bad, first_good, second_bad, second_good = asyncio.run(twice())
    assert isinstance(first_bad, psycopg.errors.UndefinedTable)
    assert isinstance(second_bad, psycopg.errors.UndefinedTable)
    assert first_good[0][1] == second_good[0][1] == 7


def test_parameters_that_cannot_be_sent_fail_their_read_alone(engine: Engine) -> None:
    async def missing() -> list[Any]:
        reads = _reads(engine)
        statements = [(VALUE, (1,)), (VALUE, (object(),)), (VALUE, {"n": 2}), (VALUE, (3,))]
        return await _together(reads, statements)

    first, unadaptable, named, third = asyncio.run(missing())
    assert isinstance(unadaptable, psycopg.ProgrammingError)
    assert isinstance(named, TypeError)  # a mapping for positional placeholders
    assert [first[0][1], third[0][1]] == [1, 3]
