"""Reads at the driver level for the few statements every inquiry runs: a token's revocation,
a grant, the revision of a subject's file, the audit log's stored hashes.

Why not SQLAlchemy's statement layer there: for a one-row indexed lookup, building the
statement's cache key, the execution context and the result costs several times the lookup
(a profile of the inquiry under load put three such reads at a quarter of its time). A
:class:`Query` is a Core statement compiled once per dialect - its SQL, the order of its
parameters and the result processors of its columns (JSON, the UTC datetimes) - run straight
on the driver's cursor. The statements stay Core, written once for both stores.

Each read is ONE statement outside any transaction of the caller: it sees what is committed,
never a caller's own uncommitted writes, so it is only for reads that need none. On SQLite
each thread keeps a connection of its own (a SELECT outside a transaction holds no lock once
it has returned, and the pool's check-out and reset cost about as much as the lookup); on
PostgreSQL, where a statement is a round trip anyway, a connection comes from the engine's pool
for each read.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.sql import CompoundSelect, Select
from sqlmodel import Session

Processor = Callable[[Any], Any] | None


class Query:
    """A Core SELECT run at the driver level: compiled on first use with each dialect."""

    def __init__(self, statement: Select[Any] | CompoundSelect[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _Compiled.of(self.statement, dialect)
        return found


class _Compiled:
    def __init__(
        self,
        sql: str,
        defaults: Mapping[str, Any],
        positions: tuple[str, ...] | None,
        processors: tuple[Processor, ...],
        names: tuple[str, ...],
    ) -> None:
        self.sql = sql
        self._defaults = defaults
        self._positions = positions
        self._processors = processors
        self._row = _row_type(names)

    @classmethod
    def of(cls, statement: Select[Any] | CompoundSelect[Any], dialect: Dialect) -> _Compiled:
        compiled = statement.compile(dialect=dialect)
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        )
        names = tuple(statement.selected_columns.keys())
        positions = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        return cls(compiled.string, dict(compiled.params), positions, processors, names)

    def parameters(self, given: Mapping[str, Any]) -> Any:
        merged = {**self._defaults, **given}
        if self._positions is None:
            return merged
        return [merged[name] for name in self._positions]

    def result(self, row: tuple[Any, ...]) -> Any:
        return self._row._make(
            value if process is None or value is None else process(value)
            for process, value in zip(self._processors, row, strict=True)
        )


def _row_type(names: tuple[str, ...]) -> Any:
    """Rows with the columns' names as attributes, like SQLAlchemy's."""
    return namedtuple("Row", names, rename=True)


class DriverReads:
    """The driver-level reads of one engine (:func:`driver_reads`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._kept: dict[int, DBAPIConnection] = {}
        self._lock = threading.Lock()
        self._keeps = engine.dialect.name == "sqlite"

    def first(self, query: Query, **parameters: Any) -> Any:
        """The first row of ``query`` (attributes named as its columns), or None."""
        compiled = query.compiled(self._engine.dialect)
        with self.connection() as dbapi:
            cursor = dbapi.cursor()
            try:
                cursor.execute(compiled.sql, compiled.parameters(parameters))
                row = cursor.fetchone()
            finally:
                cursor.close()
        return None if row is None else compiled.result(row)

    @contextmanager
    def connection(self) -> Iterator[DBAPIConnection]:
        """A driver connection for reads outside a transaction (see the module's notes)."""
        if not self._keeps:
            pooled = self._engine.raw_connection()
            try:
                yield pooled.dbapi_connection  # type: ignore[misc]
            finally:
                pooled.close()
            return
        thread = threading.get_ident()
        kept = self._kept.get(thread)
        if kept is None:
            pooled = self._engine.raw_connection()
            pooled.detach()  # this thread's from now on, closed by close()
            kept = pooled.dbapi_connection
            assert kept is not None
            with self._lock:
                self._kept[thread] = kept
        yield kept

    def close(self) -> None:
        """Close the kept connections (the engine is being disposed)."""
        with self._lock:
            kept, self._kept = list(self._kept.values()), {}
        for connection in kept:
            connection.close()


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
    """The first row of ``query`` as ``session`` would read it: at the driver level while the
    session has begun no transaction (it has read and written nothing, so a committed read is
    what it would see), else in the session (it may have written what the read must see)."""
    if not session.in_transaction():
        bind = session.get_bind()
        if isinstance(bind, Engine):
            return driver_reads(bind).first(query, **parameters)
    return session.connection().execute(query.statement, parameters).first()
