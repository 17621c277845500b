"""Who looked at my data (Art. 63): the citizen's access log as the API serves it
(:func:`gateway.inquiries.access_log.access_log`), each entry marked by checking its RFC 9162
inclusion proof against the signed checkpoint served with it.

A browser without script cannot check a proof, so the portal does it on the citizen's behalf:
it opens the checkpoint note with the log's verifier key (the one ``GET
/v1/audit/verifier-key`` publishes) and folds each entry's proof up to that root. An entry is
``verified`` when it does, ``pending`` while no checkpoint covers it yet, ``failed`` otherwise -
never silently verified. Anyone may repeat the check offline from the API's answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import InvalidProof, MalformedNote, UntrustedNote
from audit.merkle import verify_inclusion
from audit.note import parse_verifier_key
from gateway.audit_log.service import AuditLog
from gateway.inquiries.access_log import AccessEntry, AccessLog


class Mark(StrEnum):
    VERIFIED = "verified"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True)
class MarkedEntry:
    entry: AccessEntry
    mark: Mark

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.entry.event.time_ms / 1000, UTC)


def marked_entries(log: AccessLog, audit_log: AuditLog, origin: str) -> list[MarkedEntry]:
    """Each entry of ``log`` with the outcome of checking its proof against ``log.head``."""
    checkpoint = _checkpoint(log, audit_log, origin)
    return [MarkedEntry(entry, _mark(entry, checkpoint)) for entry in log.entries]


def _checkpoint(log: AccessLog, audit_log: AuditLog, origin: str) -> Checkpoint | None:
    if log.head is None:
        return None
    verifier = parse_verifier_key(audit_log.verifier_key())
    try:
        return open_checkpoint(log.head.note, [verifier], origin)
    except (MalformedNote, UntrustedNote):
        return None


def _mark(entry: AccessEntry, checkpoint: Checkpoint | None) -> Mark:
    if checkpoint is None:
        return Mark.FAILED if entry.proof is not None else Mark.PENDING
    if entry.proof is None:
        return Mark.PENDING
    try:
        verify_inclusion(
            entry.leaf_hash, entry.leaf_index, checkpoint.size, entry.proof, checkpoint.root
        )
    except InvalidProof:
        return Mark.FAILED
    return Mark.VERIFIED
