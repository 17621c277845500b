"""The single sequencer of the audit log: group commit of appends (Art. 39 para. 3, Art. 61(3)).

Every query must be registered before it is answered. Callers :meth:`Sequencer.submit` an
encoded leaf and get a :class:`Receipt` (awaited like a :class:`~concurrent.futures.Future`)
that resolves to :class:`Appended` ``(leaf_index, leaf_hash)`` only once the leaf is durable:
after the transaction of its batch committed. A caller that waits on an event loop rather than
in a thread gives :meth:`Sequencer.submit` a ``notify`` callable, which the sequencer's thread
calls once the receipt is settled (e.g. to wake the loop with ``call_soon_threadsafe``). One
thread drains the queue into batches of at most ``max_batch`` leaves, hashes the leaves and
hands the batch to :meth:`LogStore.append_batch`: ONE storage transaction per batch. A batch
takes what is queued; only while entries arrive together does it wait, at most ``max_delay``
seconds, for more - so a lone entry is never delayed, and under load the batches fill (a deep
queue makes batches of up to 8,192 leaves: one commit, one sync of the disk, for all of them).

Several processes may share one log (PostgreSQL under an advisory lock), so the store, not the
sequencer, decides where a batch lands: inside its transaction it takes the lock, reads the
current size, calls :meth:`Batch.stored_hashes` with that size and a reader bound to the same
transaction, writes leaves and hashes, commits, and returns the size it wrote at. Once it holds
the lock it asks the sequencer for the entries queued while it waited for it (``more``), and
writes them with the batch: the time a writer waits for the others' batches gathers its own, so
the more writers share the log, the fewer and fuller the batches - one lock, one commit, one
sync of the disk for what would have taken several.

Fail closed: if the store raises, every future of the batch fails with
:class:`~audit.errors.AuditUnavailable` (HTTP 503) and the caller must not answer. A future
cancelled before its batch starts is dropped, never written. :meth:`Sequencer.close` flushes
what was submitted, then stops; later submissions fail with ``AuditUnavailable``.

:class:`LoopSequencer` is the same group commit on an event loop, for a store that writes a
batch while the loop awaits it (:class:`AsyncLogStore`: another process writes it, or the loop
awaits each of its statements). No thread is involved: the entries submitted on the loop while
a batch waits for the log's lock join it once the store holds the lock (``more``), those
submitted later form the next one, and their receipts are settled on the loop, where their
callers wait. A thread of the same process would hold the interpreter lock the loop needs
while it hands batches over and settles them, and wake the loop through a pipe for every
batch.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from audit.errors import AuditUnavailable
from audit.merkle import leaf_hash
from audit.tlog import HashReader, extend

MAX_BATCH = 8192
MAX_DELAY = 0.002
_PENDING, _RUNNING, _CANCELLED, _FINISHED = range(4)
# Pending -> running (taken into a batch) or cancelled, for every receipt: once per batch.
_CLAIMS = threading.Lock()


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

    def __add__(self, later: Batch) -> Batch:
        return Batch(self.leaves + later.leaves, self.leaf_hashes + later.leaf_hashes)


More = Callable[[], Batch]
"""The entries queued since a batch was handed to the store, as a batch to write after it in
the same transaction (possibly empty)."""


class LogStore(Protocol):
    """Durable storage of leaves and stored hashes; the gateway implements it.

    ``append_batch`` runs ONE transaction: lock the log, call ``more`` (when given, at most
    once, holding the lock) and add what it returns to the batch, read its size ``n``, compute
    ``batch.stored_hashes(n, reader)`` with a reader inside the transaction, write leaf ``i``
    of the batch at index ``n + i`` and the hashes from ``stored_hash_count(n)`` on, commit,
    return ``n``. It writes all of it or nothing, and raises when it did not commit.
    """

    def append_batch(self, batch: Batch, more: More | None = None) -> int: ...


class AsyncLogStore(Protocol):
    """A :class:`LogStore` whose batches the event loop awaits, one at a time: the same
    transaction, the same outcome (the size written at, or an exception and nothing written).
    ``more`` as there: a store that waits for the log's lock on the loop asks, once it holds
    it, for the entries submitted meanwhile; one that does not wait there need not."""

    async def append_batch(self, batch: Batch, more: More) -> int: ...


class Receipt:
    """The outcome of one submitted entry, awaited like a :class:`~concurrent.futures.Future`:
    :meth:`result`, :meth:`exception`, :meth:`cancel`, :meth:`done`, :meth:`cancelled`.

    One lock, held until the outcome is set, instead of a ``Future``'s condition, lock and
    lists: a loaded sequencer creates tens of thousands of receipts a second, and every object
    they hold is one more for the garbage collector to walk.
    """

    __slots__ = ("_done", "_error", "_notify", "_result", "_state", "leaf", "leaf_hash")

    def __init__(
        self, leaf: bytes, notify: Callable[[], None] | None = None, hashed: bytes | None = None
    ) -> None:
        self.leaf = leaf
        self.leaf_hash = leaf_hash(leaf) if hashed is None else hashed
        self._notify = notify
        self._state = _PENDING
        self._result: Appended | None = None
        self._error: BaseException | None = None
        self._done = threading.Lock()
        self._done.acquire()

    def cancel(self) -> bool:
        """Withdraw the entry if its batch has not started; True when it is (or was) withdrawn."""
        with _CLAIMS:
            if self._state == _PENDING:
                self._state = _CANCELLED
                self._done.release()
            return self._state == _CANCELLED

    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def done(self) -> bool:
        return self._state in (_CANCELLED, _FINISHED)

    def result(self, timeout: float | None = None) -> Appended:
        """Where the leaf landed, once durable; raises what failed it, ``TimeoutError`` or
        ``CancelledError``."""
        error = self.exception(timeout)
        if error is not None:
            raise error
        assert self._result is not None
        return self._result

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if not self._done.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            raise TimeoutError("the audit entry is not durable yet")
        self._done.release()
        if self._state == _CANCELLED:
            raise CancelledError
        return self._error

    def _settle(self, result: Appended | None, error: BaseException | None) -> None:
        self._result, self._error, self._state = result, error, _FINISHED
        self._done.release()
        if self._notify is not None:
            self._notify()


class Sequencer:
    """Owns the thread that assigns indexes; use as a context manager or call :meth:`close`."""

    def __init__(
        self, store: LogStore, *, max_batch: int = MAX_BATCH, max_delay: float = MAX_DELAY
    ) -> None:
        self._store = store
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._queue: queue.SimpleQueue[Receipt | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="audit-sequencer", daemon=True)
        self._thread.start()

    def submit(
        self, leaf: bytes, notify: Callable[[], None] | None = None, *, hashed: bytes | None = None
    ) -> Receipt:
        """Queue an encoded leaf; the receipt resolves once it is durable (or failed), and then
        ``notify`` is called, on the sequencer's thread: it must be quick and must not raise.
        A receipt withdrawn with :meth:`Receipt.cancel` is not notified (its canceller knows).
        ``hashed``: the leaf's hash, when the caller has it already (else it is computed)."""
        receipt = Receipt(bytes(leaf), notify, hashed)
        with self._lock:
            if self._closed:
                raise AuditUnavailable("the audit log is shut down")
            self._queue.put(receipt)
        return receipt

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
        stop = False
        while not stop and (first := self._queue.get()) is not None:
            batch, stop = self._gather(first)
            stop = self._commit(batch) or stop

    def _gather(self, first: Receipt) -> tuple[list[Receipt], bool]:
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

    def _next(self, deadline: float | None) -> Receipt | None:
        if deadline is None:
            return self._queue.get_nowait()
        return self._queue.get(timeout=max(deadline - time.monotonic(), 0))

    def _commit(self, pending: Sequence[Receipt]) -> bool:
        """Write ``pending`` and what the store asks for once it holds the log's lock
        (:data:`More`), then settle their receipts; True when told to stop meanwhile."""
        written = _Written(_claimed(pending))
        if not written.live:
            return False
        stop = False

        def more() -> Batch:
            nonlocal stop
            later: list[Receipt] = []
            while len(written.live) + len(later) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                later.append(item)
            return written.add(later)

        try:
            start = self._store.append_batch(written.batch, more)
        except Exception as exc:  # any storage failure: fail the whole batch closed
            _fail(written.live, exc)
            return stop
        _settle(written.live, written.hashes, start)
        return stop


class LoopSequencer:
    """Group commit on the running event loop (the module's notes): :meth:`submit` and
    :meth:`close` are called on that loop only. One batch is written at a time; the entries
    submitted meanwhile, up to ``max_batch``, join it when its store asks (``more``) or form the
    next."""

    def __init__(self, store: AsyncLogStore, *, max_batch: int = MAX_BATCH) -> None:
        self._store = store
        self._max_batch = max_batch
        self._queued: list[Receipt] = []
        self._writing: asyncio.Task[None] | None = None
        self._closed = False

    def submit(
        self, leaf: bytes, notify: Callable[[], None] | None = None, *, hashed: bytes | None = None
    ) -> Receipt:
        """Queue an encoded leaf; the receipt resolves once it is durable (or failed), and then
        ``notify`` is called, on the loop. Not notified when withdrawn (:meth:`Receipt.cancel`).
        ``hashed`` as for :meth:`Sequencer.submit`."""
        if self._closed:
            raise AuditUnavailable("the audit log is shut down")
        receipt = Receipt(bytes(leaf), notify, hashed)
        self._queued.append(receipt)
        if self._writing is None:
            self._writing = asyncio.get_running_loop().create_task(self._write())
        return receipt

    async def close(self) -> None:
        """Write everything submitted so far; later submissions fail with ``AuditUnavailable``."""
        self._closed = True
        if self._writing is not None:
            await asyncio.shield(self._writing)

    def abandon(self) -> None:
        """Refuse later submissions and fail what is queued and not yet being written (the loop
        is gone: nothing will write it)."""
        self._closed = True
        queued, self._queued = self._queued, []
        _fail(_claimed(queued), AuditUnavailable("the audit log is shut down"))

    async def _write(self) -> None:
        try:
            while self._queued:
                written = _Written(_claimed(self._take(self._max_batch)))
                if not written.live:
                    continue

                def more(written: _Written = written) -> Batch:
                    return written.add(self._take(self._max_batch - len(written.live)))

                try:
                    start = await self._store.append_batch(written.batch, more)
                except Exception as exc:  # any storage failure: fail the whole batch closed
                    _fail(written.live, exc)
                    continue
                _settle(written.live, written.hashes, start)
        finally:
            self._writing = None

    def _take(self, most: int) -> list[Receipt]:
        taken = self._queued[:most]
        del self._queued[:most]
        return taken


class _Written:
    """A batch being written: its receipts, claimed, and their leaf hashes, grown by the
    entries its store asks for once it holds the log's lock (:data:`More`)."""

    def __init__(self, live: list[Receipt]) -> None:
        self.live = live
        self.batch = _batch(live)
        self.hashes = list(self.batch.leaf_hashes)

    def add(self, later: Sequence[Receipt]) -> Batch:
        """Claim ``later`` into the batch; the batch they make, for the store to write."""
        claimed = _claimed(later)
        self.live.extend(claimed)
        added = _batch(claimed)
        self.hashes.extend(added.leaf_hashes)
        return added


def _settle(live: Sequence[Receipt], hashes: Sequence[bytes], start: int) -> None:
    for index, (receipt, hashed) in enumerate(zip(live, hashes, strict=True), start):
        receipt._settle(Appended(index, hashed), None)


def _fail(live: Sequence[Receipt], cause: Exception) -> None:
    for receipt in live:
        error = AuditUnavailable("the audit entry could not be made durable")
        error.__cause__ = cause
        receipt._settle(None, error)


def _claimed(pending: Sequence[Receipt]) -> list[Receipt]:
    """The receipts of ``pending`` not withdrawn, now running (no longer withdrawable)."""
    live = []
    with _CLAIMS:
        for receipt in pending:
            if receipt._state == _PENDING:
                receipt._state = _RUNNING
                live.append(receipt)
    return live


def _batch(receipts: Sequence[Receipt]) -> Batch:
    return Batch(
        tuple(receipt.leaf for receipt in receipts),
        tuple(receipt.leaf_hash for receipt in receipts),
    )
