"""Errors of the audit area: the transparency log of Art. 39 para. 3, Art. 61(3) and Art. 63.

Every class roots in :mod:`problems`, so the HTTP layer renders it as RFC 9457
``application/problem+json``. Checks in this package raise one of these and never return a
bool. ``detail`` strings name indexes, sizes and key names, never a person or a leaf's content.
"""

from __future__ import annotations

from problems import Conflict, InvalidInput, NotFound, ServiceUnavailable


class InvalidProof(InvalidInput):
    """An inclusion or consistency proof does not verify (RFC 9162 sections 2.1.3.2, 2.1.4.2)."""

    title = "Invalid Merkle proof"
    slug = "audit-invalid-proof"


class InvalidProofRequest(InvalidInput):
    """A proof or root was asked for impossible coordinates (index beyond size, size1 > size2)."""

    title = "Invalid proof request"
    slug = "audit-invalid-proof-request"


class InvalidLeaf(InvalidInput):
    """An audit event or its canonical encoding is malformed or not canonical."""

    title = "Invalid audit leaf"
    slug = "audit-invalid-leaf"


class CommitmentMismatch(InvalidInput):
    """A value and salt do not open the commitment held in a leaf."""

    title = "Commitment does not match"
    slug = "audit-commitment-mismatch"


class MalformedNote(InvalidInput):
    """A signed note, checkpoint body, verifier key or signature line is malformed (C2SP)."""

    title = "Malformed signed note"
    slug = "audit-malformed-note"


class UntrustedNote(InvalidInput):
    """No trusted key verifies the note, or a trusted key's signature on it is invalid."""

    title = "Note signature not trusted"
    slug = "audit-untrusted-note"


class InconsistentCheckpoint(Conflict):
    """Signing would contradict an earlier checkpoint: history was altered or deleted."""

    title = "Inconsistent checkpoint"
    slug = "audit-inconsistent-checkpoint"
    article = "Art. 61(3)"


class VerificationFailed(Conflict):
    """The offline verifier found the log, its stored hashes or its checkpoints tampered with."""

    title = "Audit log verification failed"
    slug = "audit-verification-failed"
    article = "Art. 61(3)"


class AuditUnavailable(ServiceUnavailable):
    """The entry could not be made durable; the inquiry must not be answered (fail closed)."""

    title = "Audit log unavailable"
    slug = "audit-unavailable"
    article = "Art. 39"


class MalformedExport(InvalidInput):
    """An audit log export file does not follow the export format."""

    title = "Malformed audit export"
    slug = "audit-malformed-export"


class TileNotFound(NotFound):
    """No such C2SP tlog-tiles resource: a non-canonical path, or beyond the latest checkpoint."""

    title = "No such tile"
    slug = "audit-tile-not-found"


class MalformedTile(InvalidInput):
    """A tile or entry bundle is not of the length or encoding C2SP tlog-tiles defines."""

    title = "Malformed tile"
    slug = "audit-malformed-tile"
