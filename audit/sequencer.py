"""The single sequencer of the audit log: group commit of appends (Art. 39 para. 3, Art. 61(3)).

Every query must be registered before it is answered. Callers :meth:`Sequencer.submit` an
encoded leaf and get a :class:`~concurrent.futures.Future` that resolves to
:class:`Appended` ``(leaf_index, leaf_hash)`` only once the leaf is durable. One thread drains
the queue into batches of at most ``max_batch`` leaves, hashes the leaves and hands the batch
to :meth:`LogStore.append_batch`: ONE storage transaction per batch. A batch takes what is
queued; only while entries arrive together does it wait, at most ``max_delay`` seconds, for
more - so a lone entry is never delayed, and under load the batches fill.

Several processes may share one log (PostgreSQL under an advisory lock), so the store, not the
sequencer, decides where a batch lands: inside its transaction it takes the lock, reads the
current size, calls :meth:`Batch.stored_hashes` with that size and a reader bound to the same
transaction, writes leaves and hashes, commits, and returns the size it wrote at.

Fail closed: if the store raises, every future of the batch fails with
:class:`~audit.errors.AuditUnavailable` (HTTP 503) and the caller must not answer. A future
cancelled before its batch starts is dropped, never written. :meth:`Sequencer.close` flushes
what was submitted, then stops; later submissions fail with ``AuditUnavailable``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from audit.errors import AuditUnavailable
from audit.merkle import leaf_hash
from audit.tlog import HashReader, extend

MAX_BATCH = 2048
MAX_DELAY = 0.002


class Appended(NamedTuple):
    """Where a leaf landed: its index in the log and its RFC 9162 leaf hash."""

    leaf_index: int
    leaf_hash: bytes


@dataclass(frozen=True)
class Batch:
    """Leaves to append together, with their leaf hashes (computed outside the lock)."""

    leaves: tuple[bytes, ...]
    leaf_hashes: tuple[bytes, ...]

    def stored_hashes(self, size: int, reader: HashReader) -> list[bytes]:
        """The hashes to write from ``stored_hash_count(size)`` on, for a log of ``size``."""
        return extend(size, self.leaf_hashes, reader)


class LogStore(Protocol):
    """Durable storage of leaves and stored hashes; the gateway implements it.

    ``append_batch`` runs ONE transaction: lock the log, read its size ``n``, compute
    ``batch.stored_hashes(n, reader)`` with a reader inside the transaction, write leaf ``i``
    of the batch at index ``n + i`` and the hashes from ``stored_hash_count(n)`` on, commit,
    return ``n``. It writes all of it or nothing, and raises when it did not commit.
    """

    def append_batch(self, batch: Batch) -> int: ...


class _Pending(NamedTuple):
    leaf: bytes
    future: Future[Appended]


class Sequencer:
    """Owns the thread that assigns indexes; use as a context manager or call :meth:`close`."""

    def __init__(
        self, store: LogStore, *, max_batch: int = MAX_BATCH, max_delay: float = MAX_DELAY
    ) -> None:
        self._store = store
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="audit-sequencer", daemon=True)
        self._thread.start()

    def submit(self, leaf: bytes) -> Future[Appended]:
        """Queue an encoded leaf; the future resolves once it is durable."""
        future: Future[Appended] = Future()
        with self._lock:
            if self._closed:
                raise AuditUnavailable("the audit log is shut down")
            self._queue.put(_Pending(bytes(leaf), future))
        return future

    def close(self, timeout: float | None = None) -> None:
        """Write everything submitted so far, then stop the thread."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(None)
        self._thread.join(timeout)

    def __enter__(self) -> Sequencer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            batch, stop = self._gather(first)
            self._commit(batch)
            if stop:
                return

    def _gather(self, first: _Pending) -> tuple[list[_Pending], bool]:
        """Collect up to ``max_batch`` entries; True when told to stop.

        The delay adapts to the load: what is queued already is taken at once, and only when
        that is more than ``first`` (entries are arriving together) does the batch wait up to
        ``max_delay`` for more. A lone entry is committed without waiting.
        """
        batch = [first]
        deadline: float | None = None
        while len(batch) < self._max_batch:
            try:
                item = self._next(deadline)
            except queue.Empty:
                if deadline is not None or len(batch) == 1:
                    break
                deadline = time.monotonic() + self._max_delay
                continue
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _next(self, deadline: float | None) -> _Pending | None:
        if deadline is None:
            return self._queue.get_nowait()
        return self._queue.get(timeout=max(deadline - time.monotonic(), 0))

    def _commit(self, pending: Sequence[_Pending]) -> None:
        live = [p for p in pending if p.future.set_running_or_notify_cancel()]
        if not live:
            return
        hashes = tuple(leaf_hash(p.leaf) for p in live)
        try:
            start = self._store.append_batch(Batch(tuple(p.leaf for p in live), hashes))
        except Exception as exc:  # any storage failure: fail the whole batch closed
            for p in live:
                error = AuditUnavailable("the audit entry could not be made durable")
                error.__cause__ = exc
                p.future.set_exception(error)
            return
        for offset, (p, hashed) in enumerate(zip(live, hashes, strict=True)):
            p.future.set_result(Appended(start + offset, hashed))
