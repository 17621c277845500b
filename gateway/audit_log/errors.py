"""Errors of the audit log's service edge (Art. 39 para. 3); the log's own are in audit.errors.

Each renders as RFC 9457 problem+json; ``detail`` names sizes and indexes, never an entry.
"""

from __future__ import annotations

from problems import Conflict, InvalidInput, NotFound, ServiceUnavailable


class CheckpointNotPublished(NotFound):
    """The log has not signed a checkpoint yet."""

    title = "No checkpoint published"
    slug = "audit-checkpoint-not-published"


class InvalidLeafRange(InvalidInput):
    """A page of leaves outside the latest checkpoint, empty, or larger than allowed."""

    title = "Invalid leaf range"
    slug = "audit-invalid-leaf-range"


class LogUnreachable(ServiceUnavailable):
    """A verifier or witness could not fetch what it needs from a log's HTTP API."""

    title = "Audit log unreachable"
    slug = "audit-log-unreachable"


class MalformedState(InvalidInput):
    """A verifier's or witness's local state file is unreadable or not in its format."""

    title = "Malformed state file"
    slug = "audit-malformed-state"


class WitnessRefused(Conflict):
    """A witness refused to cosign the checkpoint (C2SP tlog-witness): a fork, or a bad proof."""

    title = "Witness refused the checkpoint"
    slug = "audit-witness-refused"
    article = "Art. 61(3)"
