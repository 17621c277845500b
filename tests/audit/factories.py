"""Small builders for the audit tests: leaves, logs in memory, keys, and a naive RFC 9162 MTH."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import next_checkpoint
from audit.leaf import AuditEvent, Channel, CommitmentDomain, EventKind, Outcome, commit, encode
from audit.memory import MemoryLogStore
from audit.merkle import EMPTY_ROOT, leaf_hash, node_hash
from audit.note import Cosigner, NoteSigner
from audit.sequencer import Batch

ORIGIN = "gateway.test/credit-audit"


def mth(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, written from the definition: recursive, no shortcuts."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def distinct_leaves(count: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(count)]


def store_with(leaves: Sequence[bytes], batch_size: int = 5) -> MemoryLogStore:
    store = MemoryLogStore()
    for start in range(0, len(leaves), batch_size):
        chunk = tuple(leaves[start : start + batch_size])
        store.append_batch(Batch(chunk, tuple(leaf_hash(leaf) for leaf in chunk)))
    return store


def log_signer(name: str = ORIGIN) -> NoteSigner:
    return NoteSigner(name, Ed25519PrivateKey.generate())


def witness(name: str = "witness.test/w1") -> Cosigner:
    return Cosigner(name, Ed25519PrivateKey.generate())


def checkpoint_history(
    store: MemoryLogStore, sizes: Sequence[int], signer: NoteSigner
) -> list[str]:
    """Signed checkpoints at ``sizes`` (ascending), each made by ``next_checkpoint``."""
    notes: list[str] = []
    for size in sizes:
        notes.append(
            next_checkpoint(
                origin=ORIGIN,
                tree_size=size,
                reader=store,
                signers=[signer],
                previous=notes[-1] if notes else None,
                trusted=[signer.verifier()],
            )
        )
    return notes


def inquiry(time_ms: int = 1_700_000_000_000) -> AuditEvent:
    return AuditEvent(
        time_ms=time_ms,
        kind=EventKind.INQUIRY,
        channel=Channel.AUTHORIZED_INQUIRY,
        requester="establishment-001",
        legal_basis="",
        grant_id="grant-7f3a",
        purpose="loan_application",
        item_categories=frozenset({"basic", "untrustworthy"}),
        outcome=Outcome.ALLOWED,
        reason_code="",
        subject_commitment=commit(CommitmentDomain.SUBJECT, bytes(32), b"subject"),
        response_commitment=commit(CommitmentDomain.RESPONSE, bytes(32), b"response"),
    )


def encoded_inquiry(time_ms: int = 1_700_000_000_000) -> bytes:
    return encode(inquiry(time_ms))
