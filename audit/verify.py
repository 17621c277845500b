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
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from hmac import compare_digest
from itertools import islice, zip_longest

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import MalformedNote, UntrustedNote, VerificationFailed
from audit.merkle import EMPTY_ROOT, TreeAccumulator, leaf_hashes
from audit.note import NoteVerifier
from audit.tlog import split_stored_hash_index

Progress = Callable[[int], None]
PROGRESS_EVERY = 1 << 16
CHUNK = 1 << 14  # leaves hashed in one loop


@dataclass(frozen=True)
class VerificationReport:
    """What was verified: the latest checkpoint and how much evidence backs it."""

    checkpoint: Checkpoint
    checkpoints_checked: int
    stored_hashes_checked: int


@dataclass(frozen=True)
class LeafChunks:
    """Leaves in chunks (in order, of any sizes): how a reader that parses many leaves at once
    (:func:`audit.export.verify_export`) hands them to :func:`verify_log` without an iterator
    step per leaf."""

    chunks: Iterable[Sequence[bytes]]


def verify_log(
    leaves: Iterable[bytes] | LeafChunks,
    checkpoints: Sequence[str],
    trusted: Sequence[NoteVerifier],
    *,
    origin: str,
    seen: Sequence[Checkpoint] = (),
    stored_hashes: Iterable[bytes] | None = None,
    progress: Progress | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> VerificationReport:
    """Verify the log; ``progress(leaves_done)`` is called every ``progress_every`` leaves."""
    heads = _open_checkpoints(checkpoints, trusted, origin)
    _check_seen(heads, seen)
    replay = _Replay(heads, stored_hashes, progress, progress_every)
    chunks = leaves.chunks if isinstance(leaves, LeafChunks) else _chunked(iter(leaves))
    for chunk in chunks:
        replay.extend(chunk)
    replay.finish()
    return VerificationReport(heads[-1], len(heads), replay.hashes_checked)


def _chunked(leaves: Iterator[bytes]) -> Iterator[list[bytes]]:
    while chunk := list(islice(leaves, CHUNK)):
        yield chunk


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

    Leaves are taken a chunk at a time, cut at every checkpoint's size and progress mark:
    hashed in one loop and added to the tree as whole subtrees (or, when stored hashes are
    compared, leaf by leaf in the layout of :mod:`audit.tlog`).
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

    def extend(self, leaves: Sequence[bytes]) -> None:
        done = 0
        while done < len(leaves):
            size = self._tree.size
            if size == self._final:
                raise VerificationFailed(
                    f"the log has more leaves than the latest checkpoint's {self._final}"
                )
            stop = min(self._next_stop(size), size + len(leaves) - done)
            hashes = leaf_hashes(leaves[done : done + stop - size])
            done += stop - size
            if self._stored is None:
                self._tree.extend_tree(hashes)
            else:
                self._check_stored(self._tree.extend_hashes(hashes), self._stored)
            if stop in self._heads:
                self._check_root(self._tree.root())
            if self._progress is not None and stop % self._every == 0:
                self._progress(stop)

    def finish(self) -> None:
        if self._tree.size != self._final:
            raise VerificationFailed(
                f"the log has {self._tree.size} leaves; the latest checkpoint has {self._final}"
            )
        if self._stored is not None and next(self._stored, None) is not None:
            raise VerificationFailed(
                f"hashes are stored beyond index {self.hashes_checked - 1}, past the last leaf"
            )

    def _next_stop(self, size: int) -> int:
        """The next size at which a root is checked or progress reported."""
        head = self._sizes[bisect_right(self._sizes, size)]  # size < final: there is one
        if self._progress is None:
            return head
        return min(head, (size // self._every + 1) * self._every)

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
