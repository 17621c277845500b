"""Database engines and the unit of work.

SQLite (WAL, foreign keys on, a busy timeout) is the default; PostgreSQL through psycopg 3 for
scale-out. Services never commit: the unit of work around a request or a command does.
Engines hide bound parameters (``hide_parameters``): an error that reaches a log names the
statement, never its values - a jti, a username, a subject's key. JSON columns are read with
orjson: the stdlib's decoder was a fifth of reading a grant's row.

Durability: SQLite runs ``synchronous=FULL``, so every commit - the audit log's batches among
them - syncs the write-ahead log to the disk before it returns and survives a power loss, not
only a crash of the process. On PostgreSQL the log makes its batches durable itself
(:func:`gateway.audit_log.repository.locked_log`), whatever the server's or the session's
``synchronous_commit``: a batch's transaction commits with it on, so a batch is answered once
the WAL is flushed past its commit (``fsync`` of the server on).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=48,
            hide_parameters=True,
            json_deserializer=orjson.loads,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_size=16,
        max_overflow=16,
        pool_pre_ping=True,
        hide_parameters=True,
        json_deserializer=orjson.loads,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back otherwise; none
    begun when the block used no storage through the session (an inquiry whose reads were
    all at the driver level, :mod:`gateway.storage.reads`)."""
    with Session(engine, expire_on_commit=False) as session, _committed(session):
        yield session


_KEPT = threading.local()


@contextmanager
def kept_unit_of_work(engine: Engine) -> Iterator[Session]:
    """:func:`unit_of_work` on a session the thread keeps for its next one, for the units that
    run once per inquiry: making and closing a session cost about a twelfth of an inquiry. The
    session leaves each unit as a new one would start it - no transaction, nothing loaded
    (closed when the unit began a transaction or loaded an object) - and a unit begun inside
    another on the same thread gets a session of its own."""
    kept = getattr(_KEPT, "session", None)
    if kept is not None and kept.bind is engine:
        session = kept
    else:
        session = Session(engine, expire_on_commit=False)
    _KEPT.session = None
    try:
        with _committed(session):
            yield session
    finally:
        if session.in_transaction() or session.identity_map:
            session.close()
        _KEPT.session = session


@contextmanager
def _committed(session: Session) -> Iterator[None]:
    try:
        yield
        if session.in_transaction():
            session.commit()
    except BaseException:
        session.rollback()
        raise
