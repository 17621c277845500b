"""The group-commit sequencers, in a thread and on an event loop: contiguous indexes, one
transaction per batch, fail closed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import CancelledError, ThreadPoolExecutor
from typing import Any

import pytest

from audit.errors import AuditUnavailable
from audit.memory import MemoryLogStore
from audit.merkle import leaf_hash
from audit.sequencer import Appended, Batch, LoopSequencer, More, Receipt, Sequencer
from tests.audit.factories import distinct_leaves, store_with


class GatedStore(MemoryLogStore):
    """Records the sizes of the batches written; an append waits for ``release`` before it
    takes the lock, as a writer waits for another's, so that others queue up meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.batch_sizes: list[int] = []

    def append_batch(self, batch: Batch, more: More | None = None) -> int:
        self.entered.set()
        self.release.wait(timeout=30)
        start = super().append_batch(batch, more)
        self.batch_sizes.append(self.size - start)
        return start


def queued_behind_a_batch(sequencer: Sequencer, store: GatedStore, count: int) -> list[Appended]:
    """One entry submitted, then ``count`` more while its batch waits in ``store``, which is
    then released: every entry's result, in the order submitted."""
    first = sequencer.submit(b"first")
    assert store.entered.wait(timeout=30)
    rest = [sequencer.submit(leaf) for leaf in distinct_leaves(count)]
    store.release.set()
    return [receipt.result(timeout=30) for receipt in (first, *rest)]


class AloneStore(GatedStore):
    """A :class:`GatedStore` that writes its batch alone: it takes no entry queued meanwhile."""

    def append_batch(self, batch: Batch, more: More | None = None) -> int:
        return super().append_batch(batch)


class FailingReaderStore(MemoryLogStore):
    """Fails inside the transaction, after computing started, while ``failing`` is set."""

    failing = False

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        if self.failing:
            raise OSError("disk full")
        return super().read_hashes(indexes)


def test_concurrent_submitters_get_contiguous_indexes_of_their_own_leaves() -> None:
    store = MemoryLogStore()
    leaves = [f"thread {t} entry {i}".encode() for t in range(8) for i in range(150)]
    with Sequencer(store, max_batch=16) as sequencer, ThreadPoolExecutor(8) as pool:
        futures = list(pool.map(sequencer.submit, leaves))
        results = [future.result(timeout=30) for future in futures]
    assert sorted(r.leaf_index for r in results) == list(range(len(leaves)))
    for leaf, result in zip(leaves, results, strict=True):
        assert store.leaves(result.leaf_index, result.leaf_index + 1) == [leaf]
        assert result.leaf_hash == leaf_hash(leaf)
    assert store.hashes() == store_with(store.leaves()).hashes()


def test_entries_queued_while_a_batch_waits_for_the_lock_join_it_up_to_the_maximum() -> None:
    store = GatedStore()
    with Sequencer(store, max_batch=4) as sequencer:
        results = queued_behind_a_batch(sequencer, store, 10)
    assert [r.leaf_index for r in results] == list(range(11))
    assert [r.leaf_hash for r in results] == [leaf_hash(leaf) for leaf in store.leaves()]
    assert store.batch_sizes == [4, 4, 3]


class FailingOnceCompleteStore(GatedStore):
    """Fails its first batch once ``more`` completed it, writing nothing."""

    failed = False

    def append_batch(self, batch: Batch, more: More | None = None) -> int:
        if self.failed:
            return super().append_batch(batch, more)
        self.entered.set()
        self.release.wait(timeout=30)
        assert more is not None
        self.failed, joined = True, more()
        raise OSError(f"disk full, {len(batch.leaves) + len(joined.leaves)} entries lost")


def test_an_entry_that_joined_a_failed_batch_fails_with_it() -> None:
    store = FailingOnceCompleteStore()
    with Sequencer(store) as sequencer:
        first = sequencer.submit(b"first")
        assert store.entered.wait(timeout=30)
        joined = sequencer.submit(b"joined")
        store.release.set()
        for receipt in (first, joined):
            error = receipt.exception(timeout=30)
            assert isinstance(error, AuditUnavailable)
            assert str(error.__cause__) == "disk full, 2 entries lost"
        assert sequencer.submit(b"after").result(timeout=30).leaf_index == 0
    assert store.leaves() == [b"after"]


def test_a_lone_entry_is_committed_without_waiting_for_company() -> None:
    """The batching window opens only while entries arrive together (adaptive delay)."""
    store = GatedStore()
    store.release.set()
    with Sequencer(store, max_delay=3600) as sequencer:
        assert sequencer.submit(b"alone").result(timeout=30).leaf_index == 0
        assert sequencer.submit(b"alone again").result(timeout=30).leaf_index == 1
    assert store.batch_sizes == [1, 1]


def test_without_a_window_entries_queued_together_are_committed_at_once() -> None:
    """``max_delay`` 0 (the log on PostgreSQL): a batch of several takes what is queued and
    waits for no more; with a window it would wait for company that never comes."""
    store = AloneStore()
    with Sequencer(store, max_delay=0) as sequencer:
        results = queued_behind_a_batch(sequencer, store, 2)
        assert [result.leaf_index for result in results] == [0, 1, 2]
        assert store.batch_sizes == [1, 2]


def test_a_failed_transaction_fails_every_future_of_its_batch_and_writes_nothing() -> None:
    store = FailingReaderStore()
    with Sequencer(store) as sequencer:
        assert sequencer.submit(b"before").result(timeout=30) == Appended(0, leaf_hash(b"before"))
        store.failing = True
        failed = [sequencer.submit(leaf) for leaf in (b"lost 1", b"lost 2", b"lost 3")]
        for future in failed:
            error = future.exception(timeout=30)
            assert isinstance(error, AuditUnavailable) and error.status == 503
            assert isinstance(error.__cause__, OSError)
        assert store.size == 1 and len(store.hashes()) == 1
        store.failing = False
        assert sequencer.submit(b"after").result(timeout=30).leaf_index == 1
    assert store.leaves() == [b"before", b"after"]


def test_a_future_cancelled_before_its_batch_is_never_written() -> None:
    store = GatedStore()
    with Sequencer(store) as sequencer:
        sequencer.submit(b"first")
        assert store.entered.wait(timeout=30)
        cancelled, kept = sequencer.submit(b"cancelled"), sequencer.submit(b"kept")
        assert cancelled.cancel()
        store.release.set()
        assert kept.result(timeout=30).leaf_index == 1
    assert store.leaves() == [b"first", b"kept"]


def test_a_receipt_notifies_once_its_outcome_is_set_and_not_when_withdrawn() -> None:
    """What a caller waiting on an event loop is woken by: the outcome is there when it is."""
    notified: list[tuple[bytes, bool]] = []

    def submit(sequencer: Sequencer, leaf: bytes) -> Receipt:
        receipt = sequencer.submit(leaf, lambda: notified.append((leaf, receipt.done())))
        return receipt

    gated, failing = GatedStore(), FailingReaderStore()
    with Sequencer(gated) as sequencer:
        first = submit(sequencer, b"first")
        assert gated.entered.wait(timeout=30)
        assert submit(sequencer, b"withdrawn").cancel()
        gated.release.set()
        first.result(timeout=30)
    with Sequencer(failing) as sequencer:
        sequencer.submit(b"before").result(timeout=30)
        failing.failing = True
        assert isinstance(submit(sequencer, b"failed").exception(timeout=30), AuditUnavailable)
    assert notified == [(b"first", True), (b"failed", True)]  # each by its thread's end


def test_close_flushes_then_refuses_new_entries() -> None:
    store = GatedStore()
    sequencer = Sequencer(store)
    futures = [sequencer.submit(leaf) for leaf in distinct_leaves(20)]
    store.release.set()
    sequencer.close()
    assert all(f.done() and not f.exception() for f in futures)
    assert store.size == 20
    with pytest.raises(AuditUnavailable):
        sequencer.submit(b"late")
    sequencer.close()


def test_a_receipt_times_out_while_its_batch_waits_and_can_then_be_withdrawn() -> None:
    store = GatedStore()
    with Sequencer(store) as sequencer:
        first = sequencer.submit(b"first")
        assert store.entered.wait(timeout=30)
        waiting = sequencer.submit(b"waiting")
        with pytest.raises(TimeoutError):
            waiting.result(timeout=0.01)
        assert not waiting.done() and not waiting.cancelled()
        assert not first.cancel()  # its batch is being written: it cannot be withdrawn
        assert waiting.cancel() and waiting.cancel() and waiting.cancelled() and waiting.done()
        with pytest.raises(CancelledError):
            waiting.result(timeout=30)
        store.release.set()
        assert first.result(timeout=30).leaf_index == 0
        assert first.done() and first.exception() is None
    assert store.leaves() == [b"first"]


class LoopStore:
    """An :class:`~audit.sequencer.AsyncLogStore` over a memory store: each batch is awaited
    until ``release`` is set, as the loop awaits a writer process or the log's lock; ``failing``
    fails them. ``asks_for_more``: once released (the lock held), it asks for the entries
    submitted meanwhile, as the store writing on the loop does."""

    def __init__(self, *, asks_for_more: bool = False) -> None:
        self.memory = FailingReaderStore()
        self.release = asyncio.Event()
        self.batch_sizes: list[int] = []
        self.asks_for_more = asks_for_more

    async def append_batch(self, batch: Batch, more: More) -> int:
        await self.release.wait()
        start = self.memory.append_batch(batch, more if self.asks_for_more else None)
        self.batch_sizes.append(self.memory.size - start)
        return start


def on_a_loop(
    scenario: Callable[[LoopStore], Coroutine[Any, Any, None]], store: LoopStore | None = None
) -> LoopStore:
    store = store or LoopStore()
    asyncio.run(scenario(store))
    return store


async def outcome(receipt: Receipt) -> Appended:
    """The receipt's outcome, once the batches written on the loop settled it."""
    while not receipt.done():
        await asyncio.sleep(0)
    return receipt.result()


def test_on_a_loop_entries_submitted_during_a_batch_form_the_next_up_to_the_maximum() -> None:
    results: list[Appended] = []

    async def scenario(store: LoopStore) -> None:
        sequencer = LoopSequencer(store, max_batch=4)
        first = sequencer.submit(b"first")
        await asyncio.sleep(0)  # its batch is being written
        rest = [sequencer.submit(leaf) for leaf in distinct_leaves(10)]
        store.release.set()
        results.extend([await outcome(receipt) for receipt in (first, *rest)])
        await sequencer.close()

    store = on_a_loop(scenario)
    assert [r.leaf_index for r in results] == list(range(11))
    assert [r.leaf_hash for r in results] == [leaf_hash(leaf) for leaf in store.memory.leaves()]
    assert store.batch_sizes == [1, 4, 4, 2]
    assert store.memory.hashes() == store_with(store.memory.leaves()).hashes()


def test_on_a_loop_entries_submitted_while_a_batch_waits_for_the_lock_join_it() -> None:
    results: list[Appended] = []

    async def scenario(store: LoopStore) -> None:
        sequencer = LoopSequencer(store, max_batch=4)
        first = sequencer.submit(b"first")
        await asyncio.sleep(0)  # its batch waits for the lock
        rest = [sequencer.submit(leaf) for leaf in distinct_leaves(10)]
        store.release.set()
        results.extend([await outcome(receipt) for receipt in (first, *rest)])
        await sequencer.close()

    store = on_a_loop(scenario, LoopStore(asks_for_more=True))
    assert store.batch_sizes == [4, 4, 3]  # the first took three more, up to the maximum
    assert [r.leaf_index for r in results] == list(range(11))
    assert [r.leaf_hash for r in results] == [leaf_hash(leaf) for leaf in store.memory.leaves()]
    assert store.memory.hashes() == store_with(store.memory.leaves()).hashes()


def test_on_a_loop_a_failed_batch_fails_closed_and_the_next_batch_is_written() -> None:
    async def scenario(store: LoopStore) -> None:
        store.release.set()
        sequencer = LoopSequencer(store)
        assert await outcome(sequencer.submit(b"before")) == Appended(0, leaf_hash(b"before"))
        store.memory.failing = True
        failed = [sequencer.submit(leaf) for leaf in (b"lost 1", b"lost 2")]
        for receipt in failed:
            with pytest.raises(AuditUnavailable) as raised:
                await outcome(receipt)
            assert isinstance(raised.value.__cause__, OSError)
        store.memory.failing = False
        assert (await outcome(sequencer.submit(b"after"))).leaf_index == 1
        await sequencer.close()

    assert on_a_loop(scenario).memory.leaves() == [b"before", b"after"]


def test_on_a_loop_an_entry_withdrawn_before_its_batch_is_never_written() -> None:
    async def scenario(store: LoopStore) -> None:
        sequencer = LoopSequencer(store)
        first = sequencer.submit(b"first")
        await asyncio.sleep(0)
        withdrawn, kept = sequencer.submit(b"withdrawn"), sequencer.submit(b"kept")
        assert withdrawn.cancel() and not first.cancel()  # first is being written
        store.release.set()
        assert (await outcome(kept)).leaf_index == 1

    assert on_a_loop(scenario).memory.leaves() == [b"first", b"kept"]


def test_on_a_loop_close_writes_what_was_submitted_and_abandon_fails_what_is_queued() -> None:
    async def scenario(store: LoopStore) -> None:
        sequencer = LoopSequencer(store)
        written = [sequencer.submit(leaf) for leaf in distinct_leaves(5)]
        store.release.set()
        await sequencer.close()
        assert all(receipt.done() and receipt.exception() is None for receipt in written)
        with pytest.raises(AuditUnavailable, match="shut down"):
            sequencer.submit(b"late")
        store.release.clear()
        abandoned = LoopSequencer(store)
        in_flight = abandoned.submit(b"in flight")
        await asyncio.sleep(0)
        queued = abandoned.submit(b"queued")
        abandoned.abandon()
        assert isinstance(queued.exception(timeout=0), AuditUnavailable)
        assert not in_flight.done()  # being written: its batch settles it
        store.release.set()
        assert (await outcome(in_flight)).leaf_index == 5

    assert on_a_loop(scenario).memory.size == 6
