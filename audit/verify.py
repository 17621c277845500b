"""Offline verification of the whole audit log (Art. 61(3): no alteration, no improper deletion).

The core of ``gateway audit verify``. Given every leaf, the log's signed checkpoints (oldest
first, the last being the tree head the leaves must match), the keys the verifier trusts and
the checkpoints it saw before (its state file), :func:`verify_log`:

1. opens every checkpoint with the trusted keys (C2SP signed-note, fail closed) and requires
   their sizes to grow strictly — a changed, reordered or duplicated checkpoint fails;
2. requires every previously seen checkpoint to be among them — a deleted checkpoint, or a
   log rolled back below what was seen, fails;
3. streams the leaves once, recomputing the RFC 9162 root at every checkpoint's size and, when
   given the stored hashes (tlog layout), comparing each one as it is recomputed — any changed,
   deleted, reordered or inserted leaf or stored hash fails, naming the index.

No proofs are needed: with all leaves at hand, consistency between checkpoints is checked by
recomputing each root. Failures raise :class:`~audit.errors.VerificationFailed`.

Leaves that come in blocks still to be decoded (:class:`LeafBlocks`, an export file) are
decoded and hashed on several processes, one block each: an RFC 9162 tree is made of complete
subtrees, so a process that knows where its block starts hashes it into the roots of the
subtrees tiling it (:func:`audit.merkle.subtree_roots`), cut at every size where a root is
checked or progress reported, and this process merges them in order. The result, every
failure and its message are those of one process: a block's failure is raised when its turn
comes, after everything before it was checked.
"""

from __future__ import annotations

import multiprocessing
import os
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from hmac import compare_digest
from itertools import chain, islice, zip_longest
from typing import Generic, TypeVar

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import MalformedNote, UntrustedNote, VerificationFailed
from audit.merkle import EMPTY_ROOT, TreeAccumulator, leaf_hashes, subtree_roots
from audit.note import NoteVerifier
from audit.tlog import split_stored_hash_index

Progress = Callable[[int], None]
PROGRESS_EVERY = 1 << 16
CHUNK = 1 << 14  # leaves hashed in one loop
AHEAD = 2  # blocks handed to each worker process ahead of the one being merged

Block = TypeVar("Block")


@dataclass(frozen=True)
class VerificationReport:
    """What was verified: the latest checkpoint and how much evidence backs it."""

    checkpoint: Checkpoint
    checkpoints_checked: int
    stored_hashes_checked: int


@dataclass(frozen=True)
class LeafBlocks(Generic[Block]):
    """Leaves in blocks still to be decoded (in order, of any sizes): ``decode`` turns a block
    into its leaves, raising for a malformed one - a module-level function, for a worker process
    to be given it with the block (:func:`audit.export.verify_export`) - and ``count`` tells
    how many it holds without decoding it."""

    blocks: Iterable[Block]
    decode: Callable[[Block], Sequence[bytes]]
    count: Callable[[Block], int]


def verify_log(
    leaves: Iterable[bytes] | LeafBlocks[Block],
    checkpoints: Sequence[str],
    trusted: Sequence[NoteVerifier],
    *,
    origin: str,
    seen: Sequence[Checkpoint] = (),
    stored_hashes: Iterable[bytes] | None = None,
    progress: Progress | None = None,
    progress_every: int = PROGRESS_EVERY,
    workers: int | None = None,
) -> VerificationReport:
    """Verify the log; ``progress(leaves_done)`` is called every ``progress_every`` leaves.

    ``workers``: the processes that decode and hash :class:`LeafBlocks` (default: one per
    core; with 1, a single block or ``stored_hashes``, this process does it all).
    """
    heads = _open_checkpoints(checkpoints, trusted, origin)
    _check_seen(heads, seen)
    replay = _Replay(heads, stored_hashes, progress, progress_every)
    if isinstance(leaves, LeafBlocks):
        _replay_blocks(replay, leaves, workers or os.cpu_count() or 1)
    else:
        for chunk in _chunked(iter(leaves)):
            replay.extend(chunk)
    replay.finish()
    return VerificationReport(heads[-1], len(heads), replay.hashes_checked)


def _chunked(leaves: Iterator[bytes]) -> Iterator[list[bytes]]:
    while chunk := list(islice(leaves, CHUNK)):
        yield chunk


def _replay_blocks(replay: _Replay, source: LeafBlocks[Block], workers: int) -> None:
    """Decode and hash the blocks here if there is one, one worker or stored hashes to compare
    leaf by leaf; on ``workers`` processes otherwise."""
    blocks = iter(source.blocks)
    first = list(islice(blocks, 2))
    if workers <= 1 or len(first) < 2 or replay.compares_stored:
        for block in chain(first, blocks):
            replay.extend(source.decode(block))
    else:
        _replay_on_workers(replay, source, chain(first, blocks), workers)


def _replay_on_workers(
    replay: _Replay, source: LeafBlocks[Block], blocks: Iterator[Block], workers: int
) -> None:
    """Decode and hash the blocks on ``workers`` processes, merge their roots in order.

    Forked: a worker starts at once and imports nothing; it runs pure functions only. At most
    ``AHEAD`` blocks per worker are in flight, so memory stays bounded whatever the log's size.
    """
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    pending: deque[tuple[int, list[int], Future[list[list[bytes]]]]] = deque()

    def merge_oldest() -> None:
        count, stops, roots = pending.popleft()
        replay.add(count, stops, roots.result())

    try:
        start = replay.size
        for block in blocks:
            count = source.count(block)
            stops = replay.stops(start, count)
            roots = pool.submit(_hash_block, source.decode, block, start, stops)
            pending.append((count, stops, roots))
            start += count
            if len(pending) > AHEAD * workers:
                merge_oldest()
        while pending:
            merge_oldest()
    finally:
        pool.shutdown(cancel_futures=True)


def _hash_block(
    decode: Callable[[Block], Sequence[bytes]], block: Block, start: int, stops: Sequence[int]
) -> list[list[bytes]]:
    """In a worker: decode the whole block (which raises for any malformed leaf), then hash."""
    return _segment_roots(decode(block), start, stops)


def _segment_roots(leaves: Sequence[bytes], start: int, stops: Sequence[int]) -> list[list[bytes]]:
    """Leaves from ``start``, hashed as the :func:`subtree_roots` of each segment up to each of
    ``stops`` (those beyond the last stop are not hashed)."""
    hashes = leaf_hashes(leaves[: stops[-1] - start] if stops else ())
    bounds = [start, *stops]
    return [
        subtree_roots(lo, hashes[lo - start : stop - start])
        for lo, stop in zip(bounds, stops, strict=False)
    ]


def _open_checkpoints(
    notes: Sequence[str], trusted: Sequence[NoteVerifier], origin: str
) -> list[Checkpoint]:
    if not notes:
        raise VerificationFailed("there is no checkpoint to verify the log against")
    heads = []
    for number, note in enumerate(notes):
        try:
            heads.append(open_checkpoint(note, trusted, origin))
        except (MalformedNote, UntrustedNote) as exc:
            raise VerificationFailed(f"checkpoint #{number}: {exc.detail}") from exc
        if number and heads[number].size <= heads[number - 1].size:
            raise VerificationFailed(
                f"checkpoint #{number} (size {heads[number].size}) does not grow from "
                f"checkpoint #{number - 1} (size {heads[number - 1].size}): "
                "checkpoints were reordered or duplicated"
            )
    return heads


def _check_seen(heads: Sequence[Checkpoint], seen: Sequence[Checkpoint]) -> None:
    by_size = {head.size: head for head in heads}
    for earlier in seen:
        if by_size.get(earlier.size) != earlier:
            raise VerificationFailed(
                f"the checkpoint of size {earlier.size} seen before is not among the log's "
                "checkpoints: it was deleted, altered or the log was rolled back"
            )


class _Replay:
    """Rebuilds the tree and checks roots and stored hashes on the way.

    Leaves are taken a chunk (or a block) at a time, cut at every checkpoint's size and
    progress mark (:meth:`stops`): hashed in one loop and added to the tree as whole subtrees
    (or, when stored hashes are compared, leaf by leaf in the layout of :mod:`audit.tlog`).
    """

    def __init__(
        self,
        heads: Sequence[Checkpoint],
        stored: Iterable[bytes] | None,
        progress: Progress | None,
        progress_every: int,
    ) -> None:
        self._heads = {head.size: head for head in heads}
        self._sizes = sorted(self._heads)
        self._final = heads[-1].size
        self._stored: Iterator[bytes] | None = None if stored is None else iter(stored)
        self._progress = progress
        self._every = progress_every
        self._tree = TreeAccumulator()
        self.hashes_checked = 0
        if 0 in self._heads:
            self._check_root(EMPTY_ROOT)

    @property
    def size(self) -> int:
        return self._tree.size

    @property
    def compares_stored(self) -> bool:
        return self._stored is not None

    def stops(self, start: int, count: int) -> list[int]:
        """The sizes at which leaves ``[start, start + count)`` are cut: every checkpoint's size
        and progress mark among them, and their end - never beyond the latest checkpoint."""
        end = min(start + count, self._final)
        if end <= start:
            return []
        sizes = self._sizes[bisect_right(self._sizes, start) : bisect_right(self._sizes, end)]
        cuts = {*sizes, end}
        if self._progress is not None:
            cuts.update(range((start // self._every + 1) * self._every, end + 1, self._every))
        return sorted(cuts)

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Add leaves from the tree's size, hashed here: as whole subtrees or, when stored
        hashes are compared, leaf by leaf in the layout of :mod:`audit.tlog`."""
        start = self.size
        stops = self.stops(start, len(leaves))
        if self._stored is None:
            self.add(len(leaves), stops, _segment_roots(leaves, start, stops))
            return
        for lo, stop in zip([start, *stops], stops, strict=False):
            hashes = leaf_hashes(leaves[lo - start : stop - start])
            self._check_stored(self._tree.extend_hashes(hashes), self._stored)
            self._reached(stop)
        self._end_at(start + len(leaves))

    def add(self, count: int, stops: Sequence[int], roots: Sequence[Sequence[bytes]]) -> None:
        """Add ``count`` leaves from the tree's size, hashed elsewhere: the roots of each
        segment up to each of :meth:`stops` (:func:`_segment_roots`)."""
        start = self.size
        for stop, segment in zip(stops, roots, strict=True):
            self._tree.extend_subtrees(stop - self.size, segment)
            self._reached(stop)
        self._end_at(start + count)

    def _reached(self, size: int) -> None:
        if size in self._heads:
            self._check_root(self._tree.root())
        if self._progress is not None and size % self._every == 0:
            self._progress(size)

    def _end_at(self, end: int) -> None:
        """The leaves given end at ``end``: fail if they were cut at the latest checkpoint."""
        if end > self.size:
            raise VerificationFailed(
                f"the log has more leaves than the latest checkpoint's {self._final}"
            )

    def finish(self) -> None:
        if self._tree.size != self._final:
            raise VerificationFailed(
                f"the log has {self._tree.size} leaves; the latest checkpoint has {self._final}"
            )
        if self._stored is not None and next(self._stored, None) is not None:
            raise VerificationFailed(
                f"hashes are stored beyond index {self.hashes_checked - 1}, past the last leaf"
            )

    def _check_root(self, root: bytes) -> None:
        if not compare_digest(root, self._heads[self._tree.size].root):
            raise VerificationFailed(
                f"the leaves do not match the signed root of the checkpoint of size "
                f"{self._tree.size}: a leaf before index {self._tree.size} was changed, "
                "deleted, reordered or inserted"
            )

    def _check_stored(self, expected: Sequence[bytes], stored: Iterator[bytes]) -> None:
        found = list(islice(stored, len(expected)))
        if found == expected:
            self.hashes_checked += len(expected)
            return
        for hashed, was in zip_longest(expected, found):
            index = self.hashes_checked
            if was is None or hashed is None or not compare_digest(was, hashed):
                level, n = split_stored_hash_index(index)
                state = "is missing" if was is None else "does not match the leaves"
                raise VerificationFailed(f"stored hash {index} (level {level}, node {n}) {state}")
            self.hashes_checked += 1
