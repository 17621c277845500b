"""The citizen's access log as an inclusion bundle (:mod:`audit.bundle`, Art. 63).

Every entry of the access log that the latest checkpoint covers, as its exact leaf bytes with
its RFC 9162 inclusion proof, the signed checkpoint, and - when the citizen says which
checkpoint they saw before - that checkpoint as the log signed it with the consistency proof
from it. ``gateway audit verify-bundle`` (or any RFC 9162 / C2SP tool) checks it offline.
"""

from __future__ import annotations

from audit.bundle import BundleEntry, Previous, write_bundle
from audit.errors import InvalidProofRequest
from audit.leaf import encode
from gateway.audit_log.errors import CheckpointNotPublished
from gateway.audit_log.service import AuditLog
from gateway.inquiries.access_log import AccessLog


def inclusion_bundle(log: AccessLog, audit_log: AuditLog, seen_size: int | None) -> str:
    """The bundle of ``log``'s proven entries; ``seen_size``: the checkpoint seen before."""
    if log.head is None:
        raise CheckpointNotPublished("the log has not signed a checkpoint yet")
    entries = [
        BundleEntry(entry.leaf_index, encode(entry.event), tuple(entry.proof))
        for entry in log.entries
        if entry.proof is not None
    ]
    previous = None
    if seen_size is not None:
        earlier = audit_log.stored_checkpoint(seen_size)
        if earlier is None:
            raise InvalidProofRequest(f"the log signed no checkpoint of size {seen_size}")
        consistency = audit_log.prove_consistency(seen_size, log.head.size)
        previous = Previous(earlier, tuple(consistency))
    return write_bundle(log.head.note, entries, previous)
