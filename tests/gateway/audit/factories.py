"""Builders for the audit-log service tests: events with fresh salts, a running log, a signer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, event, text

from audit.leaf import (
    AuditEvent,
    Channel,
    CommitmentDomain,
    EventKind,
    Outcome,
    commit,
    new_salt,
)
from gateway.audit_log.repository import FLUSH, LOG_LOCK_KEY, Openings
from gateway.audit_log.service import AuditLog, running_audit_log
from gateway.keys import load_keys
from gateway.settings import Settings
from gateway.storage.db import make_engine


def entry(number: int, requester: str = "establishment-001") -> tuple[AuditEvent, Openings]:
    """An authorized inquiry with fresh salts, and the openings of its commitments."""
    subject_salt, response_salt = new_salt(), new_salt()
    event = AuditEvent(
        time_ms=1_700_000_000_000 + number,
        kind=EventKind.INQUIRY,
        channel=Channel.AUTHORIZED_INQUIRY,
        requester=requester,
        legal_basis="",
        grant_id=f"grant-{number}",
        purpose="loan_application",
        item_categories=frozenset({"basic"}),
        outcome=Outcome.ALLOWED,
        reason_code="",
        subject_commitment=commit(CommitmentDomain.SUBJECT, subject_salt, b"subject"),
        response_commitment=commit(CommitmentDomain.RESPONSE, response_salt, b"response"),
    )
    return event, Openings(subject_salt, response_salt)


@contextmanager
def audit_log_of(settings: Settings) -> Iterator[AuditLog]:
    """The gateway's log on the settings' database and keys, checkpoint thread running."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with running_audit_log(engine, settings, load_keys(settings)) as audit_log:
            yield audit_log
    finally:
        engine.dispose()


def append_entries(audit_log: AuditLog, count: int, first: int = 0) -> list[int]:
    return [audit_log.append(*entry(first + n)).leaf_index for n in range(count)]


@dataclass
class FlushProbe:
    """What another connection saw on PostgreSQL when a batch of the log had committed and its
    flush was about to start: whether the log's lock was free, and the WAL written by then."""

    seen: list[tuple[bool, str]] = field(default_factory=list)

    def flushed(self, engine: Engine) -> bool:
        """Whether the WAL is on the disk past what was written when the flush started."""
        [(_, written)] = self.seen
        with engine.connect() as connection:
            return bool(
                connection.execute(
                    text("SELECT pg_current_wal_flush_lsn() >= CAST(:lsn AS pg_lsn)"),
                    {"lsn": written},
                ).scalar_one()
            )


@contextmanager
def flush_probe(engine: Engine) -> Iterator[FlushProbe]:
    """Probe, from another connection, the moment between a batch's commit and its flush."""
    probe = FlushProbe()

    def before_the_flush(
        _connection: object, _cursor: object, statement: str, *_args: object
    ) -> None:
        if statement == FLUSH:  # the batch has committed
            with engine.connect() as other:
                free = other.execute(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOG_LOCK_KEY}
                ).scalar_one()
                written = other.execute(text("SELECT pg_current_wal_insert_lsn()::text"))
                probe.seen.append((bool(free), written.scalar_one()))
                other.rollback()

    event.listen(engine, "before_cursor_execute", before_the_flush)
    try:
        yield probe
    finally:
        event.remove(engine, "before_cursor_execute", before_the_flush)
