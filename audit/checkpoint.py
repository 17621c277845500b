"""C2SP tlog-checkpoint bodies, and signing them without ever contradicting history.

The body is exactly three lines: the origin, the tree size in decimal without leading zeros,
the RFC 9162 root hash in standard base64. :meth:`Checkpoint.parse` rejects anything else,
extension lines included (this log never writes any).

C2SP tlog-checkpoint: "A log MUST NOT sign any checkpoint which is inconsistent with any
checkpoint it previously signed". :func:`next_checkpoint` enforces it (Art. 61(3): no
alteration or improper deletion): it verifies the previous checkpoint's signature, builds a
consistency proof (RFC 9162 section 2.1.4) from the stored hashes and verifies it before it
signs; otherwise it raises :class:`~audit.errors.InconsistentCheckpoint`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from audit.errors import InconsistentCheckpoint, InvalidProof, MalformedNote
from audit.merkle import HASH_SIZE, verify_consistency
from audit.note import NoteSigner, NoteVerifier, decode_base64, open_note, sign_note
from audit.tlog import HashReader, prove_tree, tree_hash

_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
_ORIGIN_FORBIDDEN = re.compile(r"[\x00-\x1f\ud800-\udfff]")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: which log (``origin``), how many leaves, and their Merkle root."""

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not self.origin or _ORIGIN_FORBIDDEN.search(self.origin):
            raise MalformedNote("a checkpoint origin is a non-empty line")
        if not 0 <= self.size < 1 << 63:
            raise MalformedNote("a checkpoint size is below 2**63")
        if len(self.root) != HASH_SIZE:
            raise MalformedNote("a checkpoint root hash is 32 bytes")

    def to_body(self) -> str:
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a body strictly: three lines, canonical size and base64, nothing more."""
        lines = body.split("\n")
        if len(lines) != 4 or lines[3] != "":
            raise MalformedNote("a checkpoint body is exactly three newline-terminated lines")
        origin, size, root = lines[:3]
        if not _SIZE.fullmatch(size):
            raise MalformedNote("a checkpoint size is a decimal number without leading zeros")
        return cls(origin, int(size), decode_base64(root))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> str:
    """The checkpoint as a signed note."""
    return sign_note(checkpoint.to_body(), signers)


def open_checkpoint(note: str, verifiers: Sequence[NoteVerifier], origin: str) -> Checkpoint:
    """Verify a signed checkpoint of the log ``origin``; fail closed like :func:`open_note`."""
    checkpoint = Checkpoint.parse(open_note(note, verifiers).text)
    if checkpoint.origin != origin:
        raise MalformedNote("the checkpoint is for another log")
    return checkpoint


def next_checkpoint(
    *,
    origin: str,
    tree_size: int,
    reader: HashReader,
    signers: Sequence[NoteSigner],
    previous: str | None,
    trusted: Sequence[NoteVerifier],
) -> str:
    """Sign the checkpoint of the first ``tree_size`` leaves, consistent with ``previous``.

    ``previous`` is the latest checkpoint the log signed (``None`` for the first); it must
    open with ``trusted`` (the log's current and older keys). When ``tree_size`` equals its
    size, ``previous`` is returned unchanged, so stored checkpoints strictly grow in size.
    """
    checkpoint = Checkpoint(origin, tree_size, tree_hash(tree_size, reader))
    if previous is None:
        return sign_checkpoint(checkpoint, signers)
    earlier = open_checkpoint(previous, trusted, origin)
    if earlier.size > tree_size:
        raise InconsistentCheckpoint(
            f"tree size {tree_size} is below the signed checkpoint size {earlier.size}"
        )
    proof = prove_tree(earlier.size, tree_size, reader)
    try:
        verify_consistency(earlier.size, tree_size, proof, earlier.root, checkpoint.root)
    except InvalidProof as exc:
        raise InconsistentCheckpoint(
            f"the tree of size {tree_size} does not extend the checkpoint of size {earlier.size}"
        ) from exc
    if earlier.size == tree_size:
        return previous
    return sign_checkpoint(checkpoint, signers)
