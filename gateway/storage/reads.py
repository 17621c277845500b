"""Reads at the driver level for the statements on the inquiries' path: a token's revocation,
a grant, a subject's file and its revision, a requester's sector and legal bases, a caller's
archive index and notes, the audit log's stored hashes; and the writes of the log's batches
that settle an inquiry (a use counted, the records disclosed: :func:`execute_in`).

Why not SQLAlchemy's statement layer there: for a one-row indexed lookup, building the
statement's cache key, the execution context and the result costs several times the lookup
(a profile of the inquiry under load put three such reads at a quarter of its time). A
:class:`Query` is a Core statement compiled once per dialect - its SQL, the order of its
parameters and the result processors of its columns (JSON, the UTC datetimes) - run straight
on the driver's cursor. The statements stay Core, written once for both stores.

On PostgreSQL a read made on the event loop - in a function that
:func:`~gateway.storage.bridge.run_on_loop` runs: the screen's and the inquiries' - is awaited
there on an asynchronous connection (:class:`LoopReads`): the loop goes on serving while the
statement is in flight, and no thread is handed the read; the reads made while one is in flight
go to the server together, in the next round trip.

Each read is ONE statement outside any transaction of the caller: it sees what is committed,
never a caller's own uncommitted writes - :func:`all_in` and :func:`first_in` read in the
caller's session instead once it has begun. The
connections are kept open outside the engine's pool (:class:`DriverReads`): the pool's
check-out, reset and, on PostgreSQL, its ping cost about as much as the lookup - the ping and
the reset a round trip each.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
from collections import namedtuple
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import closing
from functools import lru_cache, partial
from typing import Any, ClassVar, NamedTuple, TypeVar, cast
from weakref import WeakKeyDictionary, WeakSet, ref

import psycopg
from psycopg import pq
from psycopg.abc import Buffer
from psycopg.adapt import PyFormat, Transformer
from psycopg.errors import error_from_result
from psycopg.pq import ConnStatus, ExecStatus
from psycopg.pq.abc import PGresult
from sqlalchemy import ColumnElement, Connection, Engine, TextClause, event, true
from sqlalchemy import select as select_columns
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.sql import CompoundSelect, Select
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Session

from gateway.storage.bridge import on_loop, wait_for

Processor = Callable[[Any], Any] | None
T = TypeVar("T")
CONNECTIONS = 8
"""PostgreSQL: the connections the reads of one engine (one process) open at most in threads;
the reads awaited on an event loop share one (:class:`LoopReads`)."""


class Query:
    """A Core statement run at the driver level: compiled on first use with each dialect, or
    before, by :meth:`compile_all`. A SELECT, or a write (:func:`execute_in`): an UPDATE with
    its RETURNING, a textual statement. ``dialect``: the name of the only dialect it is
    written for (None: any)."""

    _made: ClassVar[WeakSet[Query]] = WeakSet()

    def __init__(
        self,
        statement: Select[Any] | CompoundSelect[Any] | UpdateBase | TextClause,
        dialect: str | None = None,
    ) -> None:
        self.statement = statement
        self.dialect = dialect
        self._compiled: dict[str, _Compiled] = {}
        Query._made.add(self)

    @classmethod
    def compile_all(cls, dialect: Dialect) -> None:
        """Compile with ``dialect`` every query made so far for it - those of the modules
        imported - so that no request pays for it (a serving process, before it serves)."""
        for query in list(cls._made):
            if query.dialect in (None, dialect.name):
                query.compiled(dialect)

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _Compiled.of(self.statement, dialect)
        return found


def with_context(
    rows: Select[Any], context: Sequence[ColumnElement[Any]], order_by: Sequence[str] = ()
) -> Select[Any]:
    """Each row of ``rows`` with the ``context`` columns, ordered by ``order_by`` (columns of
    ``rows``); when ``rows`` finds none, one row of the context alone, the other columns NULL.
    So a decision's rows and what it reads besides - a token's refusal, a file's revision -
    take ONE statement, and on PostgreSQL one round trip, where each would take its own."""
    found = rows.subquery("found")
    alone = select_columns(*context).subquery("context")
    return (
        select_columns(alone, found)
        .select_from(alone.outerjoin(found, true()))
        .order_by(*(found.c[name] for name in order_by))
    )


class _Compiled:
    def __init__(
        self,
        sql: str,
        defaults: Mapping[str, Any],
        positions: tuple[str, ...] | None,
        binds: Mapping[str, Callable[[Any], Any]],
        processors: tuple[Processor, ...],
        names: tuple[str, ...],
    ) -> None:
        self.sql = sql
        self._defaults = defaults
        self._positions = positions
        self._binds = binds
        self._processors = processors
        self._row = _row_type(names) if names else None

    @classmethod
    def of(
        cls,
        statement: Select[Any] | CompoundSelect[Any] | UpdateBase | TextClause,
        dialect: Dialect,
    ) -> _Compiled:
        compiled = statement.compile(dialect=dialect)
        columns = _columns(statement)
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in columns.values()
        )
        binds = {
            name: process
            for name, bind in compiled.binds.items()
            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        names = tuple(columns)
        positions = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        return cls(compiled.string, dict(compiled.params), positions, binds, processors, names)

    def parameters(self, given: Mapping[str, Any]) -> Any:
        merged = {**self._defaults, **given}
        for name, process in self._binds.items():  # the columns' stored forms (timestamps)
            if merged.get(name) is not None:
                merged[name] = process(merged[name])
        if self._positions is None:
            return merged
        return tuple(merged[name] for name in self._positions)

    def result(self, row: tuple[Any, ...]) -> Any:
        if self._row is None:  # a textual statement's row, as the driver gives it
            return row
        return self._row._make(
            value if process is None or value is None else process(value)
            for process, value in zip(self._processors, row, strict=True)
        )


def _columns(
    statement: Select[Any] | CompoundSelect[Any] | UpdateBase | TextClause,
) -> dict[str, ColumnElement[Any]]:
    """What a row of ``statement`` holds, by name: its selected or returned columns (none: a
    textual statement's rows are read as the driver gives them)."""
    if isinstance(statement, TextClause):
        return {}
    collection = (
        statement.exported_columns
        if isinstance(statement, UpdateBase)
        else statement.selected_columns
    )
    named = {key: column for key, column in collection.items() if key is not None}
    assert len(named) == len(collection), "every column a row holds is named (label it)"
    return named


def _row_type(names: tuple[str, ...]) -> Any:
    """Rows with the columns' names as attributes, like SQLAlchemy's."""
    return namedtuple("Row", names, rename=True)


class DriverReads:
    """The driver-level reads of one engine (:func:`driver_reads`), on connections they keep
    open outside the engine's pool, reading outside any transaction: on SQLite one per thread;
    on PostgreSQL up to :data:`CONNECTIONS` at once, in autocommit, each kept for the next read
    once done. No ping before a read (the pool's costs a round trip): a read that fails on a
    kept connection - which the server may have closed while it was idle - is read once more
    on a new one (a read changes nothing). The engine is held weakly: reads never keep a
    dropped engine, and its connections, alive."""

    def __init__(self, engine: Engine) -> None:
        self._engine = ref(engine)
        self._dialect = engine.dialect
        self._per_thread = engine.dialect.name == "sqlite"
        self._threads: dict[int, DBAPIConnection] = {}
        self._idle: list[DBAPIConnection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(CONNECTIONS)
        self._lost: type[Exception] = engine.dialect.loaded_dbapi.OperationalError
        self._on_loop = None if self._per_thread else LoopReads(engine, self._lost)

    def first(self, query: Query, **parameters: Any) -> Any:
        """The first row of ``query`` (its statements are lookups of a row or a few), or
        None."""
        rows = self.all(query, **parameters)
        return rows[0] if rows else None

    def all(self, query: Query, **parameters: Any) -> list[Any]:
        """Every row of ``query`` (attributes named as its columns): on PostgreSQL, for a
        caller on the event loop (:func:`gateway.storage.bridge.run_on_loop`), awaited there on
        an asynchronous connection."""
        compiled = query.compiled(self._dialect)
        sql, values = compiled.sql, compiled.parameters(parameters)
        if self._on_loop is not None and on_loop():
            rows = wait_for(self._on_loop.fetch_all(sql, values))
        else:
            rows = self.run(partial(_fetch_all, sql, values))
        return [compiled.result(row) for row in rows]

    def run(self, read: Callable[[DBAPIConnection], T]) -> T:
        """``read`` on a driver connection, outside any transaction."""
        if self._per_thread:
            return read(self._of_this_thread())
        with self._slots:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            try:
                if connection is None:
                    connection = self._open()
                    result = read(connection)
                else:
                    try:
                        result = read(connection)
                    except self._lost:
                        connection.close()
                        connection = self._open()
                        result = read(connection)
            except BaseException:
                if connection is not None:
                    connection.close()
                raise
            with self._lock:
                self._idle.append(connection)
        return result

    async def close_on_loop(self) -> None:
        """Close the asynchronous connections kept for the running event loop (the application
        serving on it stops)."""
        if self._on_loop is not None:
            await self._on_loop.close()

    def close(self) -> None:
        """Close the connections kept (the engine is being disposed); later reads open new
        ones."""
        with self._lock:
            kept = [*self._threads.values(), *self._idle]
            self._threads, self._idle = {}, []
        for connection in kept:
            connection.close()

    def _of_this_thread(self) -> DBAPIConnection:
        thread = threading.get_ident()
        connection = self._threads.get(thread)
        if connection is None:
            connection = self._open()
            with self._lock:
                self._threads[thread] = connection
        return connection

    def _open(self) -> DBAPIConnection:
        engine = self._engine()
        assert engine is not None  # reads are reached through their engine
        pooled = engine.raw_connection()
        pooled.detach()  # kept by the reads from now on, closed by close()
        connection = pooled.dbapi_connection
        assert connection is not None
        if not self._per_thread:
            connection.autocommit = True  # psycopg's: no transaction to end after a read
        return connection


class LoopReads:
    """PostgreSQL: the driver-level reads awaited on an event loop, sent in groups on ONE
    connection per loop (psycopg's, in autocommit, of the same server and settings). A read made
    while none is in flight is sent at once (on the loop's next turn); the reads made while a
    group is in flight wait for it and are sent next, together, in one round trip (libpq's
    pipeline mode: :class:`_Pipe`). Under load the loop's concurrent inquiries share their round
    trips - and the database server's wake-ups - as the log's entries share a batch's commit;
    a lone read waits for nothing. Each read is one statement in a transaction of its own,
    reading what is committed when it runs, and has its own outcome: its rows or its error. The
    price of one connection: a slow statement holds back the loop's reads made after it until
    it returns - the reads sent this way are the screen's and the inquiries' lookups, each a
    few rows by an index.

    As :class:`DriverReads`: no ping, a group that fails on the kept connection with the
    connection lost is read once more on a new one. A caller cancelled while its read waits
    takes nothing of the group's: its read is dropped when not yet sent, its rows unclaimed when
    sent.

    Why a group rather than a connection per read: a round trip cost the database server 22 us
    of CPU for ``SELECT 1`` and the inquiry's read 61 to 69 us, of which 24 us executing it - a
    group pays the wake-up and the protocol once. Eight readers at once, a read cost about 46 ->
    26 us of the server's CPU and 84 -> 60 us of the client's; served, two processes, the
    authorized inquiry 1,027 -> 1,186 req/s and the server's CPU per inquiry 0.42 -> 0.30 ms,
    alternated (4 December 22:56; README, "The inquiry benchmark").
    """

    def __init__(self, engine: Engine, lost: type[Exception]) -> None:
        self._connect = _connector(engine)
        self._lost = lost
        self._loops: WeakKeyDictionary[asyncio.AbstractEventLoop, _Kept] = WeakKeyDictionary()

    async def fetch_all(self, sql: str, parameters: Any) -> Sequence[Any]:
        loop = asyncio.get_running_loop()
        kept = self._loops.get(loop) or self._loops.setdefault(loop, _Kept())
        read = _Read(sql, parameters, loop.create_future())
        kept.waiting.append(read)
        if kept.sending is None:
            kept.sending = loop.create_task(self._send(kept))
        rows: Sequence[Any] = await read.rows
        return rows

    async def close(self) -> None:
        """Close the connection kept for the running loop, once its reads are answered (its
        application stops)."""
        kept = self._loops.pop(asyncio.get_running_loop(), None)
        if kept is None:
            return
        if kept.sending is not None:
            await kept.sending
        if kept.pipe is not None:
            await kept.pipe.close()

    async def _send(self, kept: _Kept) -> None:
        """Send what waits, a group at a time, until nothing does. Stopped (its loop is
        closing), it cancels the reads it leaves unanswered."""
        group: list[_Read] = []
        try:
            while kept.waiting:
                group = [read for read in kept.waiting if not read.rows.done()]
                kept.waiting = []
                if group:
                    _answer(group, await self._outcomes(kept, group))
        finally:
            kept.sending = None
            for read in (*group, *kept.waiting):
                read.rows.cancel()  # none when it ended: all answered

    async def _outcomes(self, kept: _Kept, group: list[_Read]) -> list[Sequence[Any] | Exception]:
        """Each read's rows or error; the group's error for all when none could be read."""
        try:
            if kept.pipe is None:
                kept.pipe = _Pipe(await self._connect(), self._lost)
                return await kept.pipe.read(group)
            try:
                return await kept.pipe.read(group)
            except self._lost:
                await kept.pipe.close()
                kept.pipe = _Pipe(await self._connect(), self._lost)
                return await kept.pipe.read(group)
        except BaseException as error:  # the connection's state unknown: not kept
            if kept.pipe is not None:
                await kept.pipe.close()
                kept.pipe = None
            if not isinstance(error, Exception):  # the sender stopped (its loop is closing)
                raise
            return [error] * len(group)


def _connector(engine: Engine) -> Callable[[], Awaitable[psycopg.AsyncConnection[Any]]]:
    """Opens an asynchronous connection, in autocommit, to ``engine``'s server with its
    settings."""
    arguments, options = engine.dialect.create_connect_args(engine.url)
    return partial(psycopg.AsyncConnection.connect, *arguments, autocommit=True, **options)


class LoopWrites:
    """PostgreSQL: the transactions that a function run on the event loop writes
    (:func:`~gateway.storage.bridge.run_on_loop`) - the audit log's batches
    (:class:`gateway.audit_log.repository.LoopLogStore`) - on ONE connection of that loop, each
    statement awaited there: the loop serves other requests while one is in flight, and no
    thread is involved. One transaction at a time, its caller's, begun and ended by statements
    of its own (the connection is in autocommit). The statements of one :meth:`run` go in one
    round trip, through :class:`_Pipe` as the reads' do, each prepared at its first use.

    :meth:`run` raises a failed statement's error and its caller abandons the transaction;
    :meth:`outcomes` answers each statement's, for statements sent with the COMMIT, which the
    server turns into a rollback after any of them failed. :meth:`discard` closes the
    connection - its state unknown after a failure - and the next transaction opens another
    (:meth:`open`)."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self.lost: type[Exception] = engine.dialect.loaded_dbapi.OperationalError
        self._connect = _connector(engine)
        self._pipe: _Pipe | None = None

    async def open(self) -> None:
        """Connect, unless a connection is kept from the last transaction."""
        if self._pipe is None:
            self._pipe = _Pipe(await self._connect(), self.lost)

    def run(self, *statements: tuple[str, Any]) -> list[Sequence[Any]]:
        """Each statement's rows, in one round trip; raises the first one's error (a function
        that :func:`~gateway.storage.bridge.run_on_loop` runs, after :meth:`open`)."""
        outcomes = self.outcomes(*statements)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome
        return cast(list[Sequence[Any]], outcomes)

    def outcomes(self, *statements: tuple[str, Any]) -> list[Sequence[Any] | Exception]:
        """Each statement's rows or error, in one round trip: after a statement fails, the
        server answers the transaction's other statements with errors, and its COMMIT with a
        rollback."""
        if self._pipe is None:
            raise RuntimeError("LoopWrites used before open")
        return wait_for(self._pipe.read([Sql(*statement) for statement in statements]))

    def statement(self, query: Query, parameters: Mapping[str, Any]) -> tuple[str, Any]:
        """``query`` as :meth:`run` sends it, with ``parameters``."""
        compiled = query.compiled(self.dialect)
        return compiled.sql, compiled.parameters(parameters)

    async def discard(self) -> None:
        """Close the connection (a transaction failed on it, or the loop's application stops)."""
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            await pipe.close()


class Sql(NamedTuple):
    """A statement and its parameters, as :class:`_Pipe` sends them."""

    sql: str
    parameters: Any


class _Pipe:
    """A connection of :class:`LoopReads` or :class:`LoopWrites` in libpq's pipeline mode,
    written to and read from on the event loop at the level of libpq (:mod:`psycopg.pq`): a
    group's statements, each with a synchronization after it - so that each is a transaction of
    its own and a failed one aborts no other, unless they are in a transaction begun by a
    statement (:class:`LoopWrites`'s) - written to the socket without waiting for the loop
    (libpq writes at each synchronization), then their results read as they come: one round
    trip.

    Why not psycopg's own pipeline (``AsyncConnection.pipeline()``): it asks the event loop
    whether the socket is writable and flushes it for every statement it queues, and waits on a
    timer of its own; measured, a group of five lookups cost 215 us of the client's CPU through
    it, 59 us here, one lookup 98 us against 44 (5 December, one process alone). psycopg still
    connects, adapts the parameters and loads the rows (:class:`psycopg.adapt.Transformer`), with
    the connection's own adapters. Each statement is prepared on the server at its first use on
    the connection (psycopg prepares one after five), under a name of its own."""

    def __init__(self, connection: psycopg.AsyncConnection[Any], lost: type[Exception]) -> None:
        self._connection = connection
        self._lost = lost
        self._pgconn = connection.pgconn
        self._pgconn.nonblocking = 1
        self._pgconn.enter_pipeline_mode()
        self._adapt = Transformer(connection)
        self._prepared: dict[_Key, bytes] = {}
        self._names = itertools.count()

    async def close(self) -> None:
        await self._connection.close()

    async def read(self, group: Sequence[_Read | Sql]) -> list[Sequence[Any] | Exception]:
        """Each read's rows or error, in one round trip."""
        outcomes: list[Sequence[Any] | Exception | None] = [None] * len(group)
        sent = []
        for position, read in enumerate(group):
            try:
                statement = self._dumped(read.sql, read.parameters)
            except Exception as error:  # its parameters: the read's own error, never sent
                outcomes[position] = error
            else:
                sent.append((position, self._queue(statement)))
        while self._pgconn.flush():
            await self._ready(writing=True)
        for position, preparing in sent:
            results = await self._results()
            if preparing is not None:
                prepared, *results = results
                if prepared.status != ExecStatus.COMMAND_OK:  # its error is the read's
                    del self._prepared[preparing]
                    results = [prepared]
            outcomes[position] = self._outcome(results[0])
        answered = [outcome for outcome in outcomes if outcome is not None]
        assert len(answered) == len(group)  # every read was answered or failed before sending
        return answered

    def _dumped(self, sql: str, parameters: Any) -> _Statement:
        query, names, formats = _numbered(sql)
        if names:
            values = [parameters[name] for name in names]
        elif isinstance(parameters, Mapping) and parameters:
            raise TypeError("a statement with positional placeholders takes a sequence")
        else:
            values = list(parameters or ())
        if len(values) != len(formats):
            raise TypeError(f"the statement takes {len(formats)} parameters, not {len(values)}")
        dumped = self._adapt.dump_sequence(values, formats)
        return _Statement(query, dumped, tuple(self._adapt.types or ()), self._adapt.formats or [])

    def _queue(self, statement: _Statement) -> _Key | None:
        """Queue ``statement`` and a synchronization after it; its key when it is prepared with
        it."""
        key = statement.query, statement.types
        name = self._prepared.get(key)
        preparing = None
        if name is None and len(self._prepared) < PREPARED:
            name = self._prepared[key] = b"gateway_read_%d" % next(self._names)
            self._pgconn.send_prepare(name, statement.query, param_types=statement.types)
            preparing = key
        if name is None:
            self._pgconn.send_query_params(
                statement.query,
                statement.values,
                param_types=statement.types,
                param_formats=statement.formats,
            )
        else:
            self._pgconn.send_query_prepared(
                name, statement.values, param_formats=statement.formats
            )
        self._pgconn.pipeline_sync()
        return preparing

    async def _results(self) -> list[PGresult]:
        """The results of the next statement queued (its preparation's first), up to its
        synchronization."""
        results: list[PGresult] = []
        ended = False  # a statement's results end with no result: two in a row, none is coming
        while True:
            while self._pgconn.is_busy():
                await self._ready(writing=False)
                self._pgconn.consume_input()
            result = self._pgconn.get_result()
            if result is None:
                if ended or self._pgconn.status == ConnStatus.BAD:
                    raise self._lost("the connection's results ended before the group's")
                ended = True
            elif result.status == ExecStatus.PIPELINE_SYNC:
                return results
            else:
                ended = False
                results.append(result)

    def _outcome(self, result: PGresult) -> Sequence[Any] | Exception:
        """A statement's rows, or its error; raised when it is the connection's."""
        if result.status == ExecStatus.TUPLES_OK:
            self._adapt.set_pgresult(result)
            return self._adapt.load_rows(0, result.ntuples, tuple)
        if result.status == ExecStatus.COMMAND_OK:
            return []
        error = error_from_result(result, encoding=self._connection.info.encoding)
        if isinstance(error, self._lost):  # the server ended the session, or lost it
            raise error
        return error

    async def _ready(self, *, writing: bool) -> None:
        """Until the connection's socket can be written to (``writing``) or read from."""
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        socket = self._pgconn.socket
        if writing:
            loop.add_writer(socket, _wake, ready)
        else:
            loop.add_reader(socket, _wake, ready)
        try:
            await ready
        finally:
            if writing:
                loop.remove_writer(socket)
            else:
                loop.remove_reader(socket)


_Key = tuple[bytes, tuple[int, ...]]
"""A statement as prepared: its text and its parameters' types."""


class _Statement(NamedTuple):
    query: bytes
    values: Sequence[Buffer | None]
    types: tuple[int, ...]
    formats: Sequence[pq.Format]


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


PREPARED = 256
"""The statements :class:`_Pipe` prepares on a connection, at most; the others are sent whole."""
_PLACEHOLDER = re.compile(r"%\((\w+)\)([sb])|%([sb])|%%")
_FORMATS = {"s": PyFormat.AUTO, "b": PyFormat.BINARY}


@lru_cache(maxsize=PREPARED)
def _numbered(sql: str) -> tuple[bytes, tuple[str, ...], tuple[PyFormat, ...]]:
    """``sql`` with psycopg's placeholders (``%(name)s`` or ``%s``, ``%(name)b`` or ``%b`` for
    a parameter sent in binary; ``%%`` a percent sign) as the server's (``$1``...), the names of
    the parameters in their order (none: positional) and the format of each. The statements are
    SQLAlchemy's, compiled for psycopg, and the log's own, all ASCII. Written here because
    psycopg's own conversion (``PostgresQuery``) is in a private module, ``_queries``, and tied
    to a cursor; cached, it is paid once per statement."""
    names: dict[str, int] = {}
    formats: list[PyFormat] = []

    def number(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        name = match.group(1)
        if name is None:
            formats.append(_FORMATS[match.group(3)])
            return f"${len(formats)}"
        if name not in names:
            names[name] = len(names) + 1
            formats.append(_FORMATS[match.group(2)])
        return f"${names[name]}"

    query = _PLACEHOLDER.sub(number, sql)
    if names and len(formats) > len(names):
        raise ValueError("a statement's placeholders are all named or all positional")
    return query.encode(), tuple(names), tuple(formats)


class _Read:
    __slots__ = ("parameters", "rows", "sql")

    def __init__(self, sql: str, parameters: Any, rows: asyncio.Future[Sequence[Any]]) -> None:
        self.sql = sql
        self.parameters = parameters
        self.rows = rows


class _Kept:
    """A loop's connection, the reads waiting for the next group and the task sending them."""

    def __init__(self) -> None:
        self.pipe: _Pipe | None = None
        self.waiting: list[_Read] = []
        self.sending: asyncio.Task[None] | None = None


def _answer(group: list[_Read], outcomes: list[Sequence[Any] | Exception]) -> None:
    for read, outcome in zip(group, outcomes, strict=True):
        if read.rows.done():  # its caller was cancelled meanwhile
            continue
        if isinstance(outcome, Exception):
            read.rows.set_exception(outcome)
        else:
            read.rows.set_result(outcome)


def _fetch_all(sql: str, parameters: Any, connection: DBAPIConnection) -> Sequence[Any]:
    with closing(connection.cursor()) as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchall() if cursor.description is not None else []


_READS: WeakKeyDictionary[Engine, DriverReads] = WeakKeyDictionary()
_READS_LOCK = threading.Lock()


def driver_reads(engine: Engine) -> DriverReads:
    """``engine``'s driver-level reads, made once; their kept connections are closed when
    the engine is disposed."""
    found = _READS.get(engine)
    if found is None:
        with _READS_LOCK:
            found = _READS.get(engine)
            if found is None:
                found = _READS[engine] = DriverReads(engine)
                event.listen(engine, "engine_disposed", lambda _engine: found.close())
    return found


def first_in(session: Session, query: Query, **parameters: Any) -> Any:
    """The first row of ``query`` as ``session`` would read it (:func:`all_in`), or None."""
    rows = all_in(session, query, **parameters)
    return rows[0] if rows else None


def all_in(session: Session, query: Query, **parameters: Any) -> list[Any]:
    """Every row of ``query`` as ``session`` would read it: at the driver level while the
    session has begun no transaction (it has read and written nothing, so a committed read is
    what it would see), else in the session, flushing first what it holds (it may have written
    what the read must see)."""
    bind = session.get_bind()
    if not session.in_transaction() and isinstance(bind, Engine):
        return driver_reads(bind).all(query, **parameters)
    return execute_in(session, query, **parameters)


def execute_in(session: Session, query: Query, **parameters: Any) -> list[Any]:
    """Run ``query`` - a write among them - on ``session``'s connection, in its transaction,
    at the driver level (what the session holds flushed first); return the rows it returns.
    The statements of the log's batches (a use counted, the records disclosed), where
    SQLAlchemy's execution of one cost several times the statement, in the transaction every
    waiting inquiry waits for; and :func:`all_in`'s reads in a session that has begun."""
    session.flush()
    connection: object = session.get_bind()
    # A session on a connection in a transaction (the log's batch) writes in that transaction:
    # its connection's, without a session transaction set up around it.
    if not (isinstance(connection, Connection) and connection.in_transaction()):
        connection = session.connection()
    return execute_on(connection, query, **parameters)


def execute_on(connection: Connection, query: Query, **parameters: Any) -> list[Any]:
    """Run ``query`` on ``connection`` at the driver level, in its transaction (begun first
    when none is, as the connection's own ``execute`` would); return the rows it returns."""
    if not connection.in_transaction():
        connection.begin()
    compiled = query.compiled(connection.dialect)
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None  # a connection in a transaction is checked out
    rows = _fetch_all(compiled.sql, compiled.parameters(parameters), dbapi)
    return [compiled.result(row) for row in rows]
