"""A batch's entries do not share their fate, an answer agrees with the log - whether the caller
waits in a thread or on an event loop - and the log's transactions are durable against a power
loss, on both stores."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from audit.errors import AuditUnavailable
from audit.leaf import AuditEvent, encode
from audit.sequencer import Appended
from gateway.audit_log.repository import Openings, Settlement, read_leaves
from gateway.audit_log.service import AuditLog
from gateway.keys import load_keys
from gateway.rights.repository import Received, add_disclosures
from gateway.settings import Settings
from gateway.storage.db import make_engine
from tests.gateway.audit.factories import entry

SLOW_SETTLEMENT = 1.0
SHORT_TIMEOUT = 0.2


@pytest.fixture
def engine(migrated: Settings) -> Iterator[Engine]:
    engine = make_engine(migrated.resolved_database_url)
    yield engine
    engine.dispose()


def _disclose(record_id: str, *, then_raise: bool = False) -> Callable[[Session, int], None]:
    def settlement(session: Session, leaf_index: int) -> None:
        add_disclosures(session, [Received(leaf_index, "establishment-001", [record_id])])
        if then_raise:
            raise RuntimeError("a settlement that fails")

    return settlement


Append = Callable[[AuditLog, AuditEvent, Openings, Settlement], Appended]
WAITS: dict[str, Append] = {
    "in a thread": AuditLog.append,
    "on the event loop": lambda log, *entry: asyncio.run(log.append_async(*entry)),
}


@pytest.mark.parametrize("wait", WAITS)
def test_the_append_of_a_failed_settlement_fails_and_the_next_is_served(
    migrated: Settings, engine: Engine, wait: str
) -> None:
    with _log(migrated, engine) as audit_log:
        with pytest.raises(AuditUnavailable):
            WAITS[wait](audit_log, *entry(0), _disclose("rec-a", then_raise=True))
        assert WAITS[wait](audit_log, *entry(1), _disclose("rec-b")).leaf_index == 1


@pytest.mark.parametrize("wait", WAITS)
def test_an_answer_agrees_with_the_log_when_the_append_times_out(
    migrated: Settings, engine: Engine, wait: str
) -> None:
    """The append times out while its batch is being written: either it was written and the
    caller is answered, or it was not and the caller gets 503 - never one without the other."""
    settled: list[int] = []

    def slow(session: Session, leaf_index: int) -> None:
        time.sleep(SLOW_SETTLEMENT)  # the batch outlives the append timeout
        settled.append(leaf_index)

    event, openings = entry(0)
    with _log(migrated, engine, append_timeout=SHORT_TIMEOUT) as audit_log:
        try:
            WAITS[wait](audit_log, event, openings, slow)
            answered = True
        except AuditUnavailable:
            answered = False
    with engine.connect() as connection:
        written = read_leaves(connection, 0, 1) == [encode(event)] if settled else False
    assert answered == written
    assert settled == ([0] if answered else [])


def test_an_append_cancelled_before_its_batch_starts_is_withdrawn(
    migrated: Settings, engine: Engine
) -> None:
    """A caller on the event loop cancelled while its entry waits behind another batch: the
    entry is never written (and takes no index)."""
    started, release = threading.Event(), threading.Event()
    entries = [entry(number) for number in range(3)]

    def busy(session: Session, leaf_index: int) -> None:
        started.set()
        release.wait(timeout=30)

    async def cancelled(audit_log: AuditLog) -> None:
        waiting = asyncio.create_task(audit_log.append_async(*entries[1]))
        await asyncio.sleep(0)  # its first step submits the entry, then it waits
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    with _log(migrated, engine) as audit_log, ThreadPoolExecutor(1) as thread:
        first = thread.submit(audit_log.append, *entries[0], busy)
        assert started.wait(timeout=30)
        asyncio.run(cancelled(audit_log))
        release.set()
        assert first.result().leaf_index == 0
        assert audit_log.append(*entries[2]).leaf_index == 1
    with engine.connect() as connection:
        assert read_leaves(connection, 0, 2) == [encode(entries[n][0]) for n in (0, 2)]


def test_the_log_commits_durably(migrated: Settings) -> None:
    """SQLite: synchronous=FULL in the log's transaction. PostgreSQL, even where the session's
    default is off: the batch's transaction commits with ``synchronous_commit`` on, so the
    append returns only once the WAL is flushed past what the batch wrote."""
    url = make_url(migrated.resolved_database_url)
    is_postgres = url.get_backend_name() == "postgresql"
    if is_postgres:
        options = f"{url.query.get('options', '')} -csynchronous_commit=off".strip()
        url = url.update_query_dict({"options": options})
    engine = make_engine(url.render_as_string(hide_password=False))
    seen: list[str] = []
    written: list[str] = []

    def durability(session: Session, _leaf_index: int) -> None:
        setting = "SHOW synchronous_commit" if is_postgres else "PRAGMA synchronous"
        seen.append(str(session.connection().exec_driver_sql(setting).scalar_one()))
        if is_postgres:  # the batch's rows are written: its commit record comes after this
            wal = session.connection().exec_driver_sql("SELECT pg_current_wal_insert_lsn()::text")
            written.append(wal.scalar_one())

    try:
        with _log(migrated, engine) as audit_log:
            audit_log.append(*entry(0), durability)
            if is_postgres:
                with engine.connect() as other:
                    flushed = other.execute(
                        text("SELECT pg_current_wal_flush_lsn() >= CAST(:lsn AS pg_lsn)"),
                        {"lsn": written[0]},
                    )
                    assert flushed.scalar_one()
    finally:
        engine.dispose()
    assert seen == (["on"] if is_postgres else ["2"])  # 2: FULL


def _log(settings: Settings, engine: Engine, append_timeout: float = 30.0) -> closing[AuditLog]:
    """The log on ``engine``, without checkpoints; flushed and stopped at the block's end."""
    keys = load_keys(settings)
    log = AuditLog(
        engine,
        origin=settings.log_origin,
        log_key=keys.log,
        interval=3600,
        append_timeout=append_timeout,
    )
    return closing(log)
