"""Who looked at my data (Art. 63): the citizen's access log as the API serves it
(:func:`gateway.inquiries.access_log.access_log`), each entry marked by checking its RFC 9162
inclusion proof against the signed checkpoint served with it.

A browser without script cannot check a proof, so the portal does it on the citizen's behalf:
it opens the checkpoint note with the log's verifier key (the one ``GET
/v1/audit/verifier-key`` publishes) and folds each entry's proof up to that root. An entry is
``verified`` when it does, ``pending`` while no checkpoint covers it yet, ``failed`` otherwise -
never silently verified. Anyone may repeat the check offline from the API's answer, or from
the inclusion bundle the page links to (``gateway audit verify-bundle``).

The portal also remembers, in a cookie of the citizen's browser (:data:`SEEN_COOKIE`), the size
and root of the checkpoint the last visit showed, and checks that the log's checkpoint today is
consistent with it (RFC 9162 consistency proof): what the citizen saw was not rewritten since.
The root comes from the browser, not from the gateway's storage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import InvalidProof, InvalidProofRequest, MalformedNote, UntrustedNote
from audit.merkle import HASH_SIZE, verify_consistency, verify_inclusion
from audit.note import parse_verifier_key
from gateway.audit_log.service import AuditLog
from gateway.inquiries.access_log import AccessEntry, AccessLog

SEEN_COOKIE = "seen_checkpoint"


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


class Continuity(StrEnum):
    CONSISTENT = "consistent"
    INCONSISTENT = "inconsistent"


@dataclass(frozen=True)
class SeenHead:
    """The checkpoint the citizen's last visit showed, and whether today's extends it."""

    size: int
    root: bytes
    continuity: Continuity | None = None


def marked_entries(log: AccessLog, checkpoint: Checkpoint | None) -> list[MarkedEntry]:
    """Each entry of ``log`` with the outcome of checking its proof against ``checkpoint``."""
    return [MarkedEntry(entry, _mark(entry, checkpoint)) for entry in log.entries]


def read_seen(cookie: str | None) -> SeenHead | None:
    """The checkpoint of the cookie ``<size>.<hex root>``; None when malformed."""
    size, _, root = (cookie or "").partition(".")
    try:
        decoded = bytes.fromhex(root) if size.isdigit() else b""
    except ValueError:
        return None
    return SeenHead(int(size), decoded) if len(decoded) == HASH_SIZE else None


def seen_cookie(checkpoint: Checkpoint) -> str:
    return f"{checkpoint.size}.{checkpoint.root.hex()}"


def check_seen(
    audit_log: AuditLog, seen: SeenHead | None, checkpoint: Checkpoint | None
) -> SeenHead | None:
    """``seen`` with the outcome of proving today's ``checkpoint`` consistent with it."""
    if seen is None or checkpoint is None:
        return None
    try:
        proof = audit_log.prove_consistency(seen.size, checkpoint.size)
        verify_consistency(seen.size, checkpoint.size, proof, seen.root, checkpoint.root)
    except (InvalidProof, InvalidProofRequest):
        return replace(seen, continuity=Continuity.INCONSISTENT)
    return replace(seen, continuity=Continuity.CONSISTENT)


def opened_head(log: AccessLog, audit_log: AuditLog, origin: str) -> Checkpoint | None:
    """The checkpoint served with ``log``, opened with the log's key; None if it does not."""
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
