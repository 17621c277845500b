"""Queries of the audit log, and its storage behind :mod:`audit`'s two protocols (RFC 9162 s. 2.1).

:class:`SqlLogStore` is the :class:`audit.sequencer.LogStore` and :class:`audit.tlog.HashReader`
of the gateway. One batch is ONE transaction (:func:`locked_log`): the log's write lock first
(``pg_advisory_xact_lock`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), then the size read
inside it, the entries queued while the lock was awaited added to the batch (the sequencer's
``more``), the stored hashes computed from the frontier of the tree - kept by the store since
its last batch unless another process wrote meanwhile, else read on the same connection - the
rows inserted (:func:`insert_batch`), commit. On PostgreSQL every round trip under the lock is
one every other writer waits for: BEGIN, the lock and the size are one, the inserts another; on
the event loop (:class:`LoopLogStore`) the lock is held for one answer only - the frontier read
with the size, the rows, the settlements and the COMMIT sent together after it.
Several processes may append to one PostgreSQL log: the lock orders them, so indexes stay
contiguous. Checkpoints are inserted under the same lock. The batches a serving process's event
loop awaits on PostgreSQL are the same transaction written on that loop (:class:`LoopLogStore`).
A batch whose transaction ended under it - a statement failed and its error was handled - fails
whole before its commit (:func:`_require_open`): the driver's commit would return as if it had
written it.

What is durable, and when. SQLite (``synchronous=FULL``): the commit syncs the write-ahead log
to the disk before it returns, and holds the database's one write lock meanwhile (one process
writes the log). PostgreSQL: the batch's transaction sets ``synchronous_commit`` on for itself,
whatever the server's or the session's default, so its COMMIT returns only once the WAL is
flushed past its commit record (and the synchronous standbys have it, if any are named); the
advisory lock is released with that commit. A batch's callers are answered only after
:func:`locked_log` returns. The other writers wait for the lock through the flush, and the
entries they queue meanwhile join their next batch, which shares one lock, one commit and one
flush (measured against a flush of its own after the lock, in a second transaction: faster
with 1, 2 and 4 processes, in every round). The one sequence
survives a crash of the database: the WAL is replayed as a prefix, and no other transaction
can see a batch before it is on the disk.

A leaf's openings (the salts of its commitments, Art. 63) are written in the transaction of
its leaf: the service hands them over keyed by leaf hash before it submits the leaf, and the
batch that writes the leaf takes them. So is a leaf's settlement, the write that must land with
the entry and only with it (the use an authorized inquiry counts, Art. 61(2)): the batch runs
it under the log's lock once the leaf's index is known, so a request that registers an inquiry
writes nothing itself and never competes with the log for SQLite's one write lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from itertools import count, islice, repeat
from typing import Any, cast

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, Table, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlmodel import Session

from audit.errors import AuditUnavailable
from audit.sequencer import Batch, More
from audit.tlog import HashReader, stored_hash_count
from gateway.audit_log.models import (
    CHECKPOINTS,
    COSIGNATURES,
    HASHES,
    LEAVES,
    OPENINGS,
    VERIFICATIONS,
)
from gateway.storage.bridge import run_on_loop
from gateway.storage.reads import LoopWrites, Query, driver_reads, execute_on

# The PostgreSQL advisory lock of the log (any constant shared by every gateway process).
LOG_LOCK_KEY = 0x61756469746C6F67  # "auditlog"
PAGE_SIZE = 10_000
SQLITE_BOUND_VALUES = 32_766  # SQLite's limit on the values one statement binds (3.32 and later)
HASH_CACHE_SIZE = 1 << 16  # stored hashes in each generation of a store's HashCache (9 MB)
_READ_HASHES = f"SELECT hash_index, hash FROM {HASHES.name} WHERE hash_index IN ({{marks}})"  # noqa: S608


@dataclass(frozen=True)
class Openings:
    """The salts that open a leaf's subject and response commitments (:func:`audit.leaf.commit`),
    and the subject's internal key when the entry belongs in the subject's access log."""

    subject_salt: bytes
    response_salt: bytes | None = None
    subject_key: str | None = None


Settlement = Callable[[Session, int], None]
"""A write that lands in the transaction of its leaf, and only there: called with a session on
that transaction and the leaf's index, under the log's lock. It reports a refusal itself (the
leaf is written all the same). Whatever it raises is undone (it runs in a savepoint of its
own) and fails its own entry only: the leaf is written, :meth:`SqlLogStore.settled` raises for
it, and the other entries of the batch are not affected.

A settlement whose class has a static ``settle_all(session, [(leaf_index, settlement), ...])``
is settled with the others of its class in the batch in one call, which must write what calling
each of them in index order would, in fewer statements. One whose class has a static
``settle_in_one([(leaf_index, settlement), ...])`` is written on the event loop on PostgreSQL
(:class:`LoopLogStore`): it returns the statements (each a :class:`Query` and its parameters)
that write what ``settle_all`` would when it refuses none of them, and that fail otherwise."""


@dataclass(frozen=True)
class Companion:
    """What the transaction of a leaf writes besides the leaf: its openings, its settlement."""

    openings: Openings | None = None
    settlement: Settlement | None = None


@contextmanager
def locked_log(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the log's write lock; committed when the block ends normally, and
    on the disk when this returns: on SQLite through ``synchronous=FULL`` (the engine's,
    :mod:`gateway.storage.db`), on PostgreSQL through the transaction's own
    ``synchronous_commit`` (:data:`_BEGIN_LOCKED`)."""
    with _log_connection(engine) as connection, _locked(connection):
        yield connection


def _log_connection(engine: Engine) -> Connection:
    """A connection for the log's transactions (:func:`_locked`): on PostgreSQL in autocommit,
    set once for the connection's life. Each change of the setting queues its undoing for the
    connection's return to the pool, which the batches' connection, kept from one batch to the
    next, never reaches: set and reset for every batch, it grew the process by a few objects a
    batch, and every full garbage collection - and the inquiries' p99 - with them."""
    connection = engine.connect()
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


@contextmanager
def _locked(connection: Connection) -> Iterator[int]:
    """:func:`locked_log` on ``connection`` (one of :func:`_log_connection`), yielding the log's
    size read under the lock; :class:`_StaleConnection` when the connection was found lost at
    the first statement, before anything was written.

    On PostgreSQL the connection is in autocommit and the transaction is the server's own, begun
    by :data:`_BEGIN_LOCKED` - BEGIN, the lock and the size in one round trip (the size read by a
    statement of its own, whose snapshot is taken once the lock is held) - and ended by the
    driver's COMMIT or ROLLBACK, which it sends because the server reports a transaction
    open."""
    with connection.begin():
        if connection.dialect.name == "postgresql":
            yield _begin_locked(connection)
        else:
            execute_on(connection, _BEGIN_IMMEDIATE)
            yield log_size(connection)
        _require_open(connection)


# Several statements in one round trip (the driver sends a query without parameters as one
# simple query): every round trip under the lock is one every other writer waits for too. The
# setting is the transaction's (is_local) and takes effect at its commit: durable whatever the
# server's or the session's default.
_BEGIN_LOCKED_STEPS = (
    "BEGIN",
    f"SELECT set_config('synchronous_commit', 'on', true), pg_advisory_xact_lock({LOG_LOCK_KEY})",
    f"SELECT max(leaf_index) FROM {LEAVES.name}",  # noqa: S608
)
_BEGIN_LOCKED = "; ".join(_BEGIN_LOCKED_STEPS)
# The frontier of the tree (audit.tlog): the stored hash of each complete subtree of the log's
# leaves - one for each bit set in its size - at stored_hash_index(level, n), which is
# stored_hash_count(last leaf of the subtree) + level.
_READ_FRONTIER = f"""SELECT hash_index, hash FROM {HASHES.name} WHERE hash_index = ANY(ARRAY(
  SELECT 2 * last - bit_count(CAST(last AS bit(64))) + level FROM (
    SELECT level, ((size >> (level + 1)) << (level + 1)) + (CAST(1 AS bigint) << level) - 1 AS last
    FROM (SELECT coalesce(max(leaf_index) + 1, 0) AS size FROM {LEAVES.name}) AS log,
      generate_series(0, 62) AS level
    WHERE (size >> level) & 1 = 1
  ) AS subtrees
))"""  # noqa: S608


def _require_open(connection: Connection) -> None:
    """Raise when the batch's transaction ended under it - a statement failed and its error
    was handled (PostgreSQL aborts the transaction), or SQLite rolled it back itself (a full
    disk) - for the driver's commit would then return as if it had committed: PostgreSQL
    answers COMMIT in an aborted transaction by rolling it back, and SQLite's driver commits
    nothing when no transaction is open."""
    dbapi = connection.connection.dbapi_connection
    if isinstance(dbapi, psycopg.Connection):
        ended = dbapi.info.transaction_status == TransactionStatus.INERROR
    else:
        assert isinstance(dbapi, sqlite3.Connection)
        ended = not dbapi.in_transaction
    if ended:
        raise AuditUnavailable("a statement of the audit log's batch failed: nothing was written")


def _begin_locked(connection: Connection) -> int:
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    with closing(dbapi.cursor()) as cursor:
        try:
            cursor.execute(_BEGIN_LOCKED)
            cursor.nextset()  # the lock's
            cursor.nextset()  # the size's
            row = cursor.fetchone()
        except connection.dialect.loaded_dbapi.Error as exc:
            if connection.dialect.is_disconnect(exc, dbapi, cursor):  # lost while idle
                connection.invalidate(exc)
                raise _StaleConnection from exc
            raise
    assert row is not None
    return _size(row[0])


def _size(last: int | None) -> int:
    """The log's size, from the index of its last leaf (None: no leaf)."""
    return 0 if last is None else int(last) + 1


class ConnectionHashReader:
    """:class:`audit.tlog.HashReader` on one connection (inside a transaction, or not)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return select_hashes(self._connection.connection.dbapi_connection, indexes)


def select_hashes(dbapi: DBAPIConnection | None, indexes: Sequence[int]) -> list[bytes]:
    """The stored hashes at ``indexes``, in order; raises when one is missing.

    Driver-level SQL on purpose: a proof is one indexed lookup, and SQLAlchemy's statement
    and result layers would cost more than the lookup itself.
    """
    assert dbapi is not None
    mark = "?" if isinstance(dbapi, sqlite3.Connection) else "%s"
    with closing(dbapi.cursor()) as cursor:
        cursor.execute(_READ_HASHES.format(marks=",".join([mark] * len(indexes))), indexes)
        return _in_order(indexes, cursor.fetchall())


def _in_order(indexes: Sequence[int], rows: Iterable[Any]) -> list[bytes]:
    """The hashes of ``rows`` (index, hash) at ``indexes``, in order; raises when one is
    missing."""
    found: dict[int, bytes] = dict(rows)
    if len(found) != len(set(indexes)):
        raise AuditUnavailable("a stored hash of the audit log is missing")
    return [found[index] for index in indexes]


class HashCache:
    """Stored hashes read or written before, in two generations of up to ``size`` each;
    thread-safe.

    A stored hash never changes once its batch is committed: the log is append-only and each
    hash is written once, by the batch whose leaf completes its subtree (:mod:`audit.tlog`);
    the edge of a tree that is still growing is never stored, so never kept. Proofs are served
    within a signed checkpoint, whose batches are on the disk (the module's notes), so a crash
    of PostgreSQL cannot take back a hash kept here either.

    Hashes read go to the recent generation; when it is full it becomes the older one and the
    previous older one is dropped: a hash stays for one to two generations, and one in many
    proofs (the upper levels of the tree) is read again at most every other generation. So a
    proof reads little more than the hashes near its leaf. Lookups and updates are single
    dict operations, atomic under the interpreter lock: no lock is needed (a race between two
    threads can only drop an entry, costing a read).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._recent: dict[int, bytes] = {}
        self._older: dict[int, bytes] = {}

    def get(self, indexes: Sequence[int]) -> list[bytes | None]:
        """The hash at each of ``indexes``, ``None`` where none is kept."""
        return list(map(self._recent.get, indexes, map(self._older.get, indexes)))

    def put(self, indexes: Sequence[int], hashes: Sequence[bytes]) -> None:
        """Keep committed hashes (never one a rollback could take back)."""
        self._recent.update(zip(indexes, hashes, strict=True))
        if len(self._recent) >= self._size:
            self._older, self._recent = self._recent, {}

    def read(
        self, indexes: Sequence[int], select: Callable[[Sequence[int]], list[bytes]]
    ) -> list[bytes]:
        """The hashes at ``indexes``: those kept, and the others read with ``select`` in one
        call (it must return committed hashes only), which are kept from then on."""
        hashes = self.get(indexes)
        if None not in hashes:
            return cast("list[bytes]", hashes)
        missing = [index for index, hashed in zip(indexes, hashes, strict=True) if hashed is None]
        read = select(missing)
        self.put(missing, read)
        fill = iter(read)
        return [next(fill) if hashed is None else hashed for hashed in hashes]


class _KeptFirst:
    """:class:`audit.tlog.HashReader` of a batch's transaction: the hashes ``cache`` keeps,
    the others read by ``select`` in the transaction - below the size read under the log's
    lock, so committed by earlier batches."""

    def __init__(self, cache: HashCache, select: Callable[[Sequence[int]], list[bytes]]) -> None:
        self._cache = cache
        self._select = select

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return self._cache.read(indexes, self._select)


class _Frontier:
    """:class:`audit.tlog.HashReader` of the frontier of the tree, read with the log's size
    (:data:`_READ_FRONTIER`'s rows)."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self._rows = rows

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return _in_order(indexes, self._rows)


class SqlLogStore:
    """The log's durable storage; safe to share between threads and processes."""

    def __init__(self, engine: Engine, cached_hashes: int = HASH_CACHE_SIZE) -> None:
        self._engine = engine
        self._companions: dict[bytes, Companion] = {}
        self._unsettled: dict[bytes, Exception] = {}
        self._companions_lock = threading.Lock()
        self._hashes = HashCache(cached_hashes)
        self._reads = driver_reads(engine)
        self._batches: Connection | None = None  # see _batch_connection
        self._batches_lock = threading.Lock()

    def append_batch(self, batch: Batch, more: More | None = None) -> int:
        """Write the batch - with ``more``'s, asked for once the log's lock is held - in one
        transaction of the log (:func:`locked_log`), its settlements run together; when one of
        them raises, the transaction is rolled back and the batch written again, each
        settlement on its own (:func:`_settle`)."""
        return self.append_taken(batch, self.take(batch.leaf_hashes), more)

    def append_taken(
        self, batch: Batch, companions: list[Companion | None], more: More | None = None
    ) -> int:
        """:meth:`append_batch` of ``batch`` with its leaves' ``companions``, already taken
        (:meth:`take`)."""
        return self.append_pending(_Pending(batch, companions, more))

    def append_pending(self, pending: _Pending) -> int:
        """:meth:`append_taken` of a batch with its companions (:class:`LoopLogStore`'s, when
        its settlements raised on the loop)."""
        leaf_hashes, size, failures = self._written(pending)
        self.unsettled({leaf_hashes[offset]: failure for offset, failure in failures.items()})
        return size

    def write(
        self, batch: Batch, companions: list[Companion | None], more: More | None = None
    ) -> tuple[Sequence[bytes], int, dict[int, Exception]]:
        """:meth:`append_batch` of ``batch`` and its leaves' ``companions`` (:meth:`take`):
        the leaf hashes written (``more``'s too), the size written at and the settlements that
        raised, by offset in the batch, not yet reported (:meth:`unsettled`)."""
        return self._written(_Pending(batch, companions, more))

    def _written(self, pending: _Pending) -> tuple[Sequence[bytes], int, dict[int, Exception]]:
        try:
            size, failures = self._write_on_kept(pending)
        except _StaleConnection:  # the kept connection was lost while idle: on a new one
            size, failures = self._write_on_kept(pending)
        return pending.batch.leaf_hashes, size, failures

    def unsettled(self, failures: Mapping[bytes, Exception]) -> None:
        """The settlements of written leaves that raised, by leaf hash: :meth:`settled` raises
        for them."""
        with self._companions_lock:
            self._unsettled.update(failures)

    def _write_on_kept(self, pending: _Pending) -> tuple[int, dict[int, Exception]]:
        with self._batch_connection() as connection:
            try:
                return self._write(connection, pending, together=True)
            except _SettlementFailed:
                return self._write(connection, pending, together=False)

    def _write(
        self, connection: Connection, pending: _Pending, *, together: bool
    ) -> tuple[int, dict[int, Exception]]:
        with _locked(connection) as size:
            select = ConnectionHashReader(connection).read_hashes
            batch, companions, hashes = self._rows(pending, size, _KeptFirst(self._hashes, select))
            openings = [c.openings if c else None for c in companions]
            insert_batch(connection, size, batch.leaves, hashes, openings)
            failures = _settle(connection, size, companions, together=together)
        self._committed(size, hashes)
        return size, failures

    def write_on_loop(self, writes: LoopWrites, pending: _Pending) -> int:
        """:meth:`_write` with every statement on ``writes``, awaited on the event loop (run by
        :func:`~gateway.storage.bridge.run_on_loop`), in two round trips: BEGIN, the lock, the
        size and the frontier of the tree in the first; then the rows, the settlements - each
        kind in the statements of its ``settle_in_one``, which fail unless all of them settle as
        :meth:`_write` would - and the COMMIT, sent together, so that the lock is held for one
        answer of the loop's only. When a settlement's statement fails the COMMIT rolls back and
        :class:`_SettlementFailed` is raised (so too when a kind of settlement has no
        ``settle_in_one``). :class:`_StaleConnection` when the connection was found lost at the
        first round trip, before anything was written."""
        try:
            *_, (size_row,), frontier = writes.run(
                *((step, None) for step in _BEGIN_LOCKED_STEPS), (_READ_FRONTIER, None)
            )
        except writes.lost as exc:
            raise _StaleConnection from exc
        size = _size(size_row[0])
        batch, companions, hashes = self._rows(pending, size, _Frontier(frontier))
        openings = [c.openings if c else None for c in companions]
        rows = (_INSERT_BATCH, _batch_parameters(size, batch.leaves, hashes, openings))
        try:
            settlements = [writes.statement(*s) for s in _settled_in_one(size, companions)]
        except _SettlementFailed:
            writes.run(("ROLLBACK", None))
            raise
        inserted, *settled, committed = writes.outcomes(rows, *settlements, ("COMMIT", None))
        if isinstance(inserted, Exception):  # the statements after it failed, the COMMIT too
            raise inserted
        refused = next((outcome for outcome in settled if isinstance(outcome, Exception)), None)
        if refused is not None:  # the transaction aborted: its COMMIT rolled back
            raise _SettlementFailed from refused
        if isinstance(committed, Exception):
            raise committed
        self._committed(size, hashes)
        return size

    def _rows(
        self, pending: _Pending, size: int, frontier: HashReader
    ) -> tuple[Batch, list[Companion | None], list[bytes]]:
        """Under the log's lock: the batch completed (:class:`_Pending`), its companions and
        the hashes it stores, the tree's frontier read from ``frontier``."""
        batch, companions = pending.completed(self.take)
        return batch, companions, batch.stored_hashes(size, frontier)

    def _committed(self, size: int, hashes: Sequence[bytes]) -> None:
        """Committed (and on the disk): the next batch finds the frontier of the tree here."""
        first = stored_hash_count(size)
        self._hashes.put(range(first, first + len(hashes)), hashes)

    @contextmanager
    def _batch_connection(self) -> Iterator[Connection]:
        """The connection the batches are written on, kept from one batch to the next: a
        check-out of the pool pings the server first, a round trip the sequencer would pay for
        every batch. One that failed is closed, and the next batch takes a new one - at once
        when it was found lost before anything was written (:class:`_StaleConnection`)."""
        with self._batches_lock:
            if self._batches is None:
                self._batches = _log_connection(self._engine)
            try:
                yield self._batches
            except BaseException:
                self._batches.close()
                self._batches = None
                raise

    def close(self) -> None:
        """Return the batches' connection (the log is closing); a later batch takes another."""
        with self._batches_lock:
            if self._batches is not None:
                self._batches.close()
                self._batches = None

    def settled(self, leaf_hash: bytes) -> None:
        """Raise ``AuditUnavailable`` if the settlement of the written leaf raised."""
        with self._companions_lock:
            failure = self._unsettled.pop(leaf_hash, None)
        if failure is not None:
            raise AuditUnavailable("the audit entry's settlement failed") from failure

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Committed hashes, from :class:`HashCache` first, the others in one query: read
        outside the log's transactions, so never one that a rollback could take back."""
        return self._hashes.read(indexes, self._select)

    def _select(self, indexes: Sequence[int]) -> list[bytes]:
        """At the driver level (:mod:`gateway.storage.reads`): outside the log's
        transactions, so never a hash that a rollback could take back."""
        return self._reads.run(partial(select_hashes, indexes=indexes))

    def expect(self, leaf_hash: bytes, companion: Companion) -> None:
        """Hold ``companion`` for the batch that will write the leaf hashing to ``leaf_hash``."""
        with self._companions_lock:
            self._companions[leaf_hash] = companion

    def forget(self, leaf_hash: bytes) -> None:
        with self._companions_lock:
            self._companions.pop(leaf_hash, None)

    def take(self, leaf_hashes: Sequence[bytes]) -> list[Companion | None]:
        """The companions held for these leaves (:meth:`expect`), no longer held."""
        with self._companions_lock:
            return [self._companions.pop(hashed, None) for hashed in leaf_hashes]


class _Pending:
    """A batch and its leaves' companions, completed once, under the log's lock, with the
    entries queued while the lock was awaited (:data:`audit.sequencer.More`); the same for a
    second attempt."""

    def __init__(self, batch: Batch, companions: list[Companion | None], more: More | None) -> None:
        self.batch = batch
        self._companions = companions
        self._more = more

    def completed(
        self, take: Callable[[Sequence[bytes]], list[Companion | None]]
    ) -> tuple[Batch, list[Companion | None]]:
        if self._more is not None:
            later, self._more = self._more(), None
            self.batch += later
            self._companions += take(later.leaf_hashes)
        return self.batch, self._companions


class LoopLogStore:
    """PostgreSQL: the :class:`audit.sequencer.AsyncLogStore` of a serving process's
    :class:`audit.sequencer.LoopSequencer` - the batches of the appends awaited on its event
    loop (the inquiries') written on that loop itself, each statement awaited there
    (:meth:`SqlLogStore.write_on_loop` on a :class:`~gateway.storage.reads.LoopWrites`): the
    same transaction as the thread's, and no thread takes the batch and hands back its outcome.

    Why: written by the sequencer's thread, a batch took the interpreter lock from the loop at
    each of its statements' answers and woke the loop through its self-pipe to settle the
    entries. Measured under load (two processes, the authorized inquiry, alternated;
    ``bench/RUNS.md``, 5 December 19:42): the gateway's CPU per inquiry 0.52 -> 0.45 ms, and 16 %
    more inquiries served - the statements prepared at their first use: sent unprepared, the
    database server's CPU per inquiry rose by a fifth and the gain was 4 %.

    The batch's transaction takes two round trips: BEGIN, the lock, the size and the frontier
    of the tree; then the rows, the settlements and the COMMIT together. So the lock is held
    through one answer of the loop's, which under load waits for a core: in a run of two
    processes its holder had been idle in its transaction, waiting for the loop's next
    statement, about 80 % of the time, through five answers (``bench/RUNS.md``, 5 December
    21:12). The entries submitted while a batch waits for the lock join it once the lock is
    held (``more``), as in the thread. Settlements are sent unanswered, so a kind of settlement
    is written on the loop only through its class's ``settle_in_one``: statements that settle
    all of the batch's as ``settle_all`` would, or fail - and the COMMIT sent after them then
    rolls back. When they fail (a use that no grant covers, spent, revoked or held by another
    transaction), or the class has none, the thread writes the batch again
    (:meth:`SqlLogStore.append_pending`) with ``settle_all``, each settlement on its own if one
    raises there. Fail closed as in the thread: a batch that fails otherwise fails whole, its
    connection is closed (the server rolls back what it began), and the next batch opens
    another; a connection found lost at the first round trip (closed by the server while idle)
    is replaced at once."""

    def __init__(self, store: SqlLogStore, writes: LoopWrites) -> None:
        self._store = store
        self._writes = writes

    async def append_batch(self, batch: Batch, more: More | None = None) -> int:
        pending = _Pending(batch, self._store.take(batch.leaf_hashes), more)
        try:
            try:
                return await self._written(pending)
            except _StaleConnection:
                await self._writes.discard()
                return await self._written(pending)
        except _SettlementFailed:
            return await asyncio.to_thread(self._store.append_pending, pending)
        except BaseException:
            await self._writes.discard()
            raise

    async def _written(self, pending: _Pending) -> int:
        await self._writes.open()
        return await run_on_loop(self._store.write_on_loop, self._writes, pending)

    async def close(self) -> None:
        """Close the loop's connection (the application serving on it stops, its batches
        written)."""
        await self._writes.discard()


def _settled_in_one(start: int, companions: Sequence[Companion | None]) -> list[tuple[Query, Any]]:
    """The statements that settle the batch's leaves all at once or fail (their classes'
    ``settle_in_one``, in index order within each class); :class:`_SettlementFailed` when a
    class has none."""
    statements = []
    for settle_in_one, kind in _kinds(_settlements(start, companions), "settle_in_one").items():
        if settle_in_one is None:
            raise _SettlementFailed(f"{type(kind[0][1]).__name__} settles in its own statements")
        statements += settle_in_one(kind)
    return statements


class _StaleConnection(Exception):
    """The log's connection was lost before the transaction wrote anything."""


class _SettlementFailed(Exception):
    """The batch's settlements did not all settle together: the batch is written again - by
    the thread with ``settle_all`` when it was written on the event loop, else each settlement
    on its own."""


def _settle(
    connection: Connection, start: int, companions: Sequence[Companion | None], *, together: bool
) -> dict[int, Exception]:
    """Run the settlements of the batch's leaves on its transaction, in index order (those of
    a class with ``settle_all`` together); returns what raised, by offset in the batch, its
    writes undone.

    ``together``: all of them in the transaction itself, no savepoint (each statement is a
    round trip the sequencer waits for, and a server's transaction is unusable after an error):
    :class:`_SettlementFailed` when one raises, and the caller writes the batch again. Else
    each on its own in a savepoint of its own, so that the one that fails fails alone."""
    settlements = _settlements(start, companions)
    if not settlements:
        return {}
    with Session(bind=connection) as session:
        if together:
            try:
                for settle_all, kind in _kinds(settlements, "settle_all").items():
                    (settle_all or _one_by_one)(session, kind)
            except Exception as exc:
                raise _SettlementFailed from exc
            return {}
        failures: dict[int, Exception] = {}
        for leaf_index, settlement in settlements:
            try:
                with session.begin_nested():
                    # The savepoint set now, not at the session's first statement: a
                    # settlement may write at the driver level (execute_in), which the session
                    # does not see.
                    session.connection()
                    settlement(session, leaf_index)
            except Exception as exc:  # the entry's own failure, reported to it alone
                failures[leaf_index - start] = exc
        return failures


Indexed = tuple[int, Settlement]


def _settlements(start: int, companions: Sequence[Companion | None]) -> list[Indexed]:
    """The batch's settlements with their leaves' indexes, in index order."""
    return [
        (start + offset, c.settlement) for offset, c in enumerate(companions) if c and c.settlement
    ]


def _kinds(settlements: Sequence[Indexed], method: str) -> dict[Any, list[Indexed]]:
    """The settlements by what settles them: their class's static ``method``
    (``settle_all``, ``settle_in_one``), or None for a class without it."""
    kinds: dict[Any, list[Indexed]] = {}
    for indexed in settlements:
        kinds.setdefault(getattr(type(indexed[1]), method, None), []).append(indexed)
    return kinds


def _one_by_one(session: Session, settlements: Sequence[Indexed]) -> None:
    for leaf_index, settlement in settlements:
        settlement(session, leaf_index)


# Run for every batch of appends: built once, so only their execution is paid for.
_LOG_SIZE = Query(select(func.max(LEAVES.c.leaf_index).label("last")))
_BEGIN_IMMEDIATE = Query(text("BEGIN IMMEDIATE"))


def log_size(connection: Connection) -> int:
    """The number of leaves, read at the driver level: in a batch of the log (SQLite), under
    its lock, the statement layer had cost more than the read - time the sequencer holds the
    interpreter, which the event loop then waits for."""
    last = execute_on(connection, _LOG_SIZE)[0].last
    return 0 if last is None else int(last) + 1


def insert_batch(
    connection: Connection,
    start: int,
    leaves: Sequence[bytes],
    hashes: Sequence[bytes],
    openings: Sequence[Openings | None],
) -> None:
    """A batch's rows: its leaves from index ``start``, the hashes it stores and its openings.
    On PostgreSQL ONE statement, each column an array the server unfolds (a round trip under the
    log's lock saved per table); on SQLite one statement per table (:func:`_insert_rows`)."""
    if connection.dialect.name == "postgresql":
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        with closing(dbapi.cursor()) as cursor:
            cursor.execute(_INSERT_BATCH, _batch_parameters(start, leaves, hashes, openings))
        return
    now = datetime.now(UTC)
    hash_start = stored_hash_count(start)
    opened = _opened(start, openings)
    bind_time = _stored_time(connection.dialect)
    created_at = bind_time(now) if bind_time else now  # the column's stored form, once
    _insert_rows(
        connection,
        LEAVES,
        ("leaf_index", "leaf", "created_at"),
        zip(count(start), leaves, repeat(created_at)),
    )
    _insert_rows(connection, HASHES, ("hash_index", "hash"), zip(count(hash_start), hashes))
    if opened:
        columns = ("leaf_index", "subject_salt", "response_salt", "subject_key")
        _insert_rows(connection, OPENINGS, columns, opened)


def _opened(
    start: int, openings: Sequence[Openings | None]
) -> list[tuple[int, bytes, bytes | None, str | None]]:
    """The openings' rows: leaf index, salts, subject key."""
    return [
        (start + offset, opening.subject_salt, opening.response_salt, opening.subject_key)
        for offset, opening in enumerate(openings)
        if opening is not None
    ]


def _batch_parameters(
    start: int,
    leaves: Sequence[bytes],
    hashes: Sequence[bytes],
    openings: Sequence[Openings | None],
) -> dict[str, object]:
    """:data:`_INSERT_BATCH`'s parameters: each column an array."""
    indexes, subject_salts, response_salts, subject_keys = [
        list(column) for column in zip(*_opened(start, openings), strict=True)
    ] or [[], [], [], []]
    return {
        "start": start,
        "leaves": list(leaves),
        "now": datetime.now(UTC),
        "hash_start": stored_hash_count(start),
        "hashes": list(hashes),
        "indexes": indexes,
        "subject_salts": subject_salts,
        "response_salts": response_salts,
        "subject_keys": subject_keys,
    }


@cache
def _stored_time(dialect: Dialect) -> Callable[[datetime], object] | None:
    """What turns a leaf's time into its column's stored form on ``dialect``, made once."""
    return LEAVES.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)


# The arrays bound in binary (``%(name)b``): in text, psycopg escapes every ``bytea`` in Python,
# 262 us for a batch of 10 against 33 - in the sequencer, holding the interpreter lock.
_INSERT_BATCH = f"""WITH leaves AS (
  INSERT INTO {LEAVES.name} (leaf_index, leaf, created_at)
  SELECT %(start)s + position - 1, leaf, %(now)s
  FROM unnest(%(leaves)b::bytea[]) WITH ORDINALITY AS batch (leaf, position)
), hashes AS (
  INSERT INTO {HASHES.name} (hash_index, hash)
  SELECT %(hash_start)s + position - 1, hash
  FROM unnest(%(hashes)b::bytea[]) WITH ORDINALITY AS batch (hash, position)
)
INSERT INTO {OPENINGS.name} (leaf_index, subject_salt, response_salt, subject_key)
SELECT * FROM unnest(
  %(indexes)b::bigint[], %(subject_salts)b::bytea[], %(response_salts)b::bytea[],
  %(subject_keys)b::text[]
)"""  # noqa: S608


def _insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple[object, ...]]
) -> None:
    """SQLite: the rows in as few statements as its limit of bound values allows (one for any
    batch but the largest), each inserting many rows (``VALUES (...), (...)``), run on the
    driver itself in the connection's transaction. Not ``executemany``: the driver hands the
    interpreter lock over around every row it writes, and the sequencer - whose batch every
    waiting inquiry waits for - then waits for it again as many times while the event loop
    runs; nor SQLAlchemy's insert, whose per-row parameter processing costs more than the
    write (the rows are plain tuples: bytes, integers, one timestamp)."""
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    names, row_marks = ", ".join(columns), "(" + ", ".join("?" * len(columns)) + ")"
    rows = iter(rows)
    with closing(dbapi.cursor()) as cursor:
        while chunk := list(islice(rows, SQLITE_BOUND_VALUES // len(columns))):
            marks = ", ".join([row_marks] * len(chunk))
            statement = f"INSERT INTO {table.name} ({names}) VALUES {marks}"  # noqa: S608
            cursor.execute(statement, [value for row in chunk for value in row])


def read_leaves(connection: Connection, start: int, end: int) -> list[bytes]:
    """Leaves ``[start, end)``; raises when one is missing (the log is contiguous)."""
    leaves = _leaf_page(connection, start, end)
    if len(leaves) != max(end - start, 0):
        raise AuditUnavailable(f"audit log leaves between {start} and {end} are missing")
    return leaves


def read_openings(connection: Connection, leaf_index: int) -> Openings | None:
    row = connection.execute(
        select(OPENINGS.c.subject_salt, OPENINGS.c.response_salt, OPENINGS.c.subject_key).where(
            OPENINGS.c.leaf_index == leaf_index
        )
    ).first()
    return None if row is None else Openings(row.subject_salt, row.response_salt, row.subject_key)


def leaves_about(
    connection: Connection, subject_key: str, *, before: int, limit: int
) -> list[tuple[int, bytes]]:
    """``(leaf_index, leaf)`` of the entries about one subject below ``before``, newest first."""
    rows = connection.execute(
        select(LEAVES.c.leaf_index, LEAVES.c.leaf)
        .join(OPENINGS, OPENINGS.c.leaf_index == LEAVES.c.leaf_index)
        .where(OPENINGS.c.subject_key == subject_key, LEAVES.c.leaf_index < before)
        .order_by(LEAVES.c.leaf_index.desc())
        .limit(limit)
    )
    return [(int(row.leaf_index), row.leaf) for row in rows]


def iter_leaves(engine: Engine, end: int, page: int = PAGE_SIZE) -> Generator[bytes, None, None]:
    """The stored leaves with index below ``end``, in index order, one query per page.

    No check here: a missing leaf or hash must reach the verifier, which names what is wrong.
    """
    for start in range(0, end, page):
        with engine.connect() as connection:
            yield from _leaf_page(connection, start, min(start + page, end))


def iter_hashes(engine: Engine, end: int, page: int = PAGE_SIZE) -> Generator[bytes, None, None]:
    """The stored hashes with index below ``end``, in index order, unchecked like the leaves."""
    for start in range(0, end, page):
        with engine.connect() as connection:
            yield from connection.execute(
                select(HASHES.c.hash)
                .where(HASHES.c.hash_index >= start, HASHES.c.hash_index < min(start + page, end))
                .order_by(HASHES.c.hash_index)
            ).scalars()


def _leaf_page(connection: Connection, start: int, end: int) -> list[bytes]:
    rows = connection.execute(
        select(LEAVES.c.leaf)
        .where(LEAVES.c.leaf_index >= start, LEAVES.c.leaf_index < end)
        .order_by(LEAVES.c.leaf_index)
    )
    return list(rows.scalars())


def latest_checkpoint(connection: Connection) -> str | None:
    return connection.execute(
        select(CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.tree_size.desc()).limit(1)
    ).scalar_one_or_none()


def latest_checkpoint_size(connection: Connection) -> int | None:
    size = connection.execute(select(func.max(CHECKPOINTS.c.tree_size))).scalar_one()
    return None if size is None else int(size)


def checkpoint_notes(connection: Connection) -> list[str]:
    """Every signed checkpoint, oldest (smallest) first."""
    rows = connection.execute(select(CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.tree_size))
    return list(rows.scalars())


def insert_checkpoint(connection: Connection, tree_size: int, note: str) -> None:
    connection.execute(
        insert(CHECKPOINTS),
        {"tree_size": tree_size, "note": note, "created_at": datetime.now(UTC)},
    )


@dataclass(frozen=True)
class Cosignature:
    """A witness's verified cosignature line on the checkpoint of ``tree_size``."""

    tree_size: int
    witness_key: str
    signature_line: str
    cosigned_at: int


def checkpoint_note(connection: Connection, tree_size: int) -> str | None:
    """The signed checkpoint of ``tree_size`` the log stored, if it signed one."""
    return connection.execute(
        select(CHECKPOINTS.c.note).where(CHECKPOINTS.c.tree_size == tree_size)
    ).scalar_one_or_none()


def insert_cosignatures(connection: Connection, cosignatures: Sequence[Cosignature]) -> None:
    """Store verified cosignatures; a witness's first one on a checkpoint is kept."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    now = datetime.now(UTC)
    for cosignature in cosignatures:
        row = {
            "tree_size": cosignature.tree_size,
            "witness_key": cosignature.witness_key,
            "signature_line": cosignature.signature_line,
            "cosigned_at": cosignature.cosigned_at,
            "created_at": now,
        }
        connection.execute(dialect.insert(COSIGNATURES).values(row).on_conflict_do_nothing())


def cosignature_lines(connection: Connection, tree_size: int) -> list[str]:
    """The stored cosignature lines on the checkpoint of ``tree_size``, by witness key."""
    rows = connection.execute(
        select(COSIGNATURES.c.signature_line)
        .where(COSIGNATURES.c.tree_size == tree_size)
        .order_by(COSIGNATURES.c.witness_key)
    )
    return list(rows.scalars())


def cosigned_size(connection: Connection, witness_key: str) -> int | None:
    """The largest tree size the witness ``witness_key`` cosigned, as far as the log stored."""
    size = connection.execute(
        select(func.max(COSIGNATURES.c.tree_size)).where(COSIGNATURES.c.witness_key == witness_key)
    ).scalar_one()
    return None if size is None else int(size)


@dataclass(frozen=True)
class Verification:
    """One run of the local verifier: when, whether it passed, the size verified or why not."""

    verified_at: datetime
    passed: bool
    tree_size: int | None
    detail: str


def record_verification(engine: Engine, verification: Verification) -> None:
    """Keep a verifier run's outcome, in a transaction of its own."""
    row = {
        "verified_at": verification.verified_at,
        "passed": verification.passed,
        "tree_size": verification.tree_size,
        "detail": verification.detail[:500],
    }
    with engine.begin() as connection:
        connection.execute(insert(VERIFICATIONS).values(row))


def latest_verification(connection: Connection) -> Verification | None:
    row = connection.execute(
        select(
            VERIFICATIONS.c.verified_at,
            VERIFICATIONS.c.passed,
            VERIFICATIONS.c.tree_size,
            VERIFICATIONS.c.detail,
        )
        .order_by(VERIFICATIONS.c.verification_id.desc())
        .limit(1)
    ).first()
    return None if row is None else Verification(*row)
