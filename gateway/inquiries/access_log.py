"""The credit subject's access log: who queried my information (Art. 63, Art. 39 para. 3).

A signed-in citizen reads the audit log's entries about them - every inquiry, allowed or
refused, and every change of their consents - newest first, each decoded from its leaf (time,
kind, channel, requester and the requester's registered name, grant and purpose or legal basis,
categories, outcome and reason) with its leaf index and hash and its RFC 9162 inclusion proof
against the latest signed checkpoint, which is served with them: the citizen verifies each entry
offline with the log's verifier key (``GET /v1/audit/verifier-key``).

Entries are found by the subject's internal key kept beside the leaf's openings; lawful public
disclosure lookups are never linked to a subject and so never appear. An entry newer than the
latest checkpoint has no proof yet (``pending``): checkpoints are signed every
``GATEWAY_CHECKPOINT_INTERVAL`` seconds, and reading the log never signs one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from audit.leaf import AuditEvent, decode
from audit.merkle import leaf_hash
from consent.rfc9068 import AccessToken
from gateway.audit_log.errors import CheckpointNotPublished
from gateway.audit_log.repository import leaves_about
from gateway.audit_log.service import AuditLog
from gateway.keys import GatewayKeys
from gateway.parties.accounts import account_identifier, acting_account, actor_names
from gateway.parties.repository import party_names
from gateway.subjects import subject_key

MAX_ENTRIES = 500
EVERY_ENTRY = (1 << 63) - 1
"""``before`` for a log read from its newest entry (every leaf index is below it)."""


@dataclass(frozen=True)
class SignedHead:
    """The latest signed checkpoint (a C2SP signed note) and the tree size it covers."""

    note: str
    size: int


@dataclass(frozen=True)
class AccessEntry:
    leaf_index: int
    leaf_hash: bytes
    event: AuditEvent
    requester_name: str | None
    proof: list[bytes] | None
    actor_name: str | None = None


@dataclass(frozen=True)
class AccessLog:
    head: SignedHead | None
    entries: list[AccessEntry]


def access_log(
    session: Session,
    audit_log: AuditLog,
    keys: GatewayKeys,
    caller: AccessToken,
    now: datetime,
    *,
    before: int,
    limit: int,
) -> AccessLog:
    """The entries about the file of the subject the caller acts for below index ``before``,
    newest first; for an entity, each step a person took for it names that person."""
    account = acting_account(session, caller, now)
    key = subject_key(keys, account_identifier(session, account, now))
    actors = actor_names(session, keys, account, now)
    head = signed_head(audit_log)
    found = leaves_about(session.connection(), key, before=before, limit=min(limit, MAX_ENTRIES))
    events = [(index, leaf, decode(leaf)) for index, leaf in found]
    names = party_names(session, {event.requester for _, _, event in events})
    size = head.size if head else 0
    return AccessLog(
        head,
        [
            AccessEntry(
                index,
                leaf_hash(leaf),
                event,
                names.get(event.requester),
                audit_log.prove_inclusion(index, size) if index < size else None,
                actors.get(event.actor) if event.actor else None,
            )
            for index, leaf, event in events
        ],
    )


def signed_head(audit_log: AuditLog) -> SignedHead | None:
    """The latest signed checkpoint; None before the first."""
    try:
        note, checkpoint = audit_log.signed_head()
    except CheckpointNotPublished:
        return None
    return SignedHead(note, checkpoint.size)
