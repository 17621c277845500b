"""An in-memory :class:`~audit.sequencer.LogStore` and :class:`~audit.tlog.HashReader`.

For tests and benchmarks (``bench/``): the same contract as the gateway's SQL store
(RFC 9162 section 2.1 tree, tlog stored-hash layout), without durability. A batch is applied
under a lock only after its hashes are computed, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from audit.sequencer import Batch, More


class MemoryLogStore:
    """Leaves and stored hashes in two lists; safe to share between threads."""

    def __init__(self) -> None:
        self._leaves: list[bytes] = []
        self._hashes: list[bytes] = []
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return len(self._leaves)

    def append_batch(self, batch: Batch, more: More | None = None) -> int:
        with self._lock:
            if more is not None:
                batch += more()
            size = len(self._leaves)
            hashes = batch.stored_hashes(size, self)
            self._leaves.extend(batch.leaves)
            self._hashes.extend(hashes)
            return size

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return [self._hashes[index] for index in indexes]

    def leaves(self, start: int = 0, end: int | None = None) -> list[bytes]:
        return self._leaves[start:end]

    def hashes(self) -> list[bytes]:
        return list(self._hashes)
