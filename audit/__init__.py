"""The append-only, signed, verifiable audit log (Art. 39 para. 3, Art. 61(3), Art. 63).

Pure code; storage sits behind two small protocols the gateway implements:
:class:`audit.tlog.HashReader` and :class:`audit.sequencer.LogStore`.

* :mod:`audit.leaf` — the canonical leaf of one audit event, with salted commitments.
* :mod:`audit.merkle` — RFC 9162 section 2.1 hashing, proof verification, streaming roots.
* :mod:`audit.tlog` — stored-hash layout; roots and proofs from O(log n) stored hashes.
* :mod:`audit.sequencer` — group-commit appends; futures resolve once durable.
* :mod:`audit.note`, :mod:`audit.checkpoint` — C2SP signed notes, checkpoints, cosignatures.
* :mod:`audit.verify`, :mod:`audit.export` — the offline verifier and the export format.
* :mod:`audit.memory` — an in-memory store for tests and benchmarks.
* :mod:`audit.errors` — the error family.
"""
