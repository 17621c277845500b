"""Builders for the audit-log service tests: events with fresh salts, a running log, a signer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, select
from sqlmodel import col

from audit.leaf import (
    AuditEvent,
    Channel,
    CommitmentDomain,
    EventKind,
    Outcome,
    commit,
    new_salt,
)
from audit.merkle import leaf_hash
from audit.sequencer import Batch
from gateway.audit_log.repository import Openings
from gateway.audit_log.service import AuditLog, running_audit_log
from gateway.keys import load_keys
from gateway.oauth.models import RevokedToken
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


def batch_of(leaves: list[bytes]) -> Batch:
    """The batch of ``leaves``, hashed."""
    return Batch(tuple(leaves), tuple(leaf_hash(leaf) for leaf in leaves))


def traces(engine: Engine) -> list[str]:
    """What the tests' settlements left: revoked tokens' ids, in order."""
    with engine.connect() as connection:
        rows = connection.execute(select(col(RevokedToken.jti)).order_by(col(RevokedToken.jti)))
        return list(rows.scalars())
