"""Stored hashes of the log's Merkle tree and proofs read from them (RFC 9162 section 2.1).

The layout is that of Go's ``golang.org/x/mod/sumdb/tlog``: the log stores, in one dense
sequence, every leaf hash and every node hash of a *complete* subtree, each written once, when
the leaf that completes it is appended. The hash of level ``level`` (0 = leaves) covering
leaves ``[n * 2**level, (n + 1) * 2**level)`` lives at :func:`stored_hash_index`.
A tree of ``size`` leaves has :func:`stored_hash_count` hashes, about ``2 * size``.

Because every complete subtree is stored, a root (:func:`tree_hash`), an inclusion proof
(:func:`prove_record`, RFC 9162 section 2.1.3.1) or a consistency proof (:func:`prove_tree`,
section 2.1.4.1) costs ONE :meth:`HashReader.read_hashes` call for O(log n) hashes — never a
recomputation from the leaves. Appending (:func:`extend`) likewise reads the O(log n)
frontier once and returns the hashes to write, so a storage transaction can append a batch.

Proofs are lists of 32-byte hashes in RFC 9162 order; :func:`proof_json` renders the public
``{"hashes": [base64...]}`` form.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Protocol

from audit.errors import AuditUnavailable, InvalidProofRequest
from audit.merkle import EMPTY_ROOT, HASH_SIZE, TreeAccumulator, fold

_Range = tuple[int, int]


class HashReader(Protocol):
    """Read access to the stored hashes; the gateway's storage implements it.

    ``read_hashes`` returns the hashes at the given stored-hash indexes, in the same order.
    Indexes come in the order the caller needs them (a proof's, say), each once within a
    call. A hash that does not exist must raise; it must never be skipped, so that the result
    lines up with ``indexes``.
    """

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]: ...


def stored_hash_index(level: int, n: int) -> int:
    """Position in storage of the level-``level`` hash number ``n`` (tlog StoredHashIndex)."""
    last_leaf = ((n + 1) << level) - 1
    return 2 * last_leaf - last_leaf.bit_count() + level  # stored_hash_count(last_leaf) + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """Inverse of :func:`stored_hash_index`: ``(level, n)`` of the hash at ``index``."""
    leaf = index // 2
    start = stored_hash_count(leaf)
    while True:
        after = start + _hashes_for_leaf(leaf)
        if after > index:
            level = index - start
            return level, leaf >> level
        leaf, start = leaf + 1, after


def stored_hash_count(size: int) -> int:
    """Number of hashes stored for a tree of ``size`` leaves: ``2 * size - popcount(size)``."""
    return 2 * size - size.bit_count()


def extend(size: int, leaf_hashes: Sequence[bytes], reader: HashReader) -> list[bytes]:
    """Hashes to store, from index ``stored_hash_count(size)`` on, to append ``leaf_hashes``.

    Call it inside the storage transaction, with the size read under the log's lock: it reads
    the frontier of that tree (one call) and computes everything else in memory.
    """
    frontier = _read(reader, _subtree_indexes(0, size))
    return TreeAccumulator(size, frontier).extend_hashes(leaf_hashes)


def stored_hashes_for(n: int, leaf_hash: bytes, reader: HashReader) -> list[bytes]:
    """Hashes to store when appending leaf number ``n`` (tlog StoredHashesForRecordHash)."""
    return extend(n, [leaf_hash], reader)


def tree_hash(size: int, reader: HashReader) -> bytes:
    """Root of the tree of the first ``size`` leaves (RFC 9162 MTH) from O(log n) reads."""
    if size < 0:
        raise InvalidProofRequest(f"tree size {size} is negative")
    return _range_hashes([(0, size)], reader)[0] if size else EMPTY_ROOT


def prove_record(index: int, tree_size: int, reader: HashReader) -> list[bytes]:
    """Inclusion proof PATH(index, D[tree_size]) (RFC 9162 section 2.1.3.1)."""
    if not 0 <= index < tree_size:
        raise InvalidProofRequest(f"leaf index {index} is not below tree size {tree_size}")
    indexes, edge = _inclusion_indexes(index, tree_size)
    proof = _read(reader, indexes)
    if edge is not None:
        proof[edge] = [fold(proof[edge])]
    return proof


def prove_tree(size1: int, size2: int, reader: HashReader) -> list[bytes]:
    """Consistency proof PROOF(size1, D[size2]) (RFC 9162 section 2.1.4.1).

    Empty when ``size1`` is 0 or equals ``size2``, as :func:`audit.merkle.verify_consistency`
    expects.
    """
    if not 0 <= size1 <= size2:
        raise InvalidProofRequest(f"tree size {size1} cannot precede tree size {size2}")
    if size1 in (0, size2):
        return []
    return _range_hashes(_consistency_ranges(0, size2, size1), reader)


def proof_json(proof: Sequence[bytes]) -> str:
    """The public proof document ``{"hashes": [base64...]}``."""
    return json.dumps({"hashes": [base64.b64encode(h).decode("ascii") for h in proof]})


def _hashes_for_leaf(leaf: int) -> int:
    """Leaf ``leaf`` adds its own hash and one per subtree it completes (trailing 1 bits)."""
    return ((leaf + 1) & -(leaf + 1)).bit_length()


def _split(width: int) -> int:
    """The largest power of two strictly below ``width`` (RFC 9162's k), for width > 1."""
    return 1 << ((width - 1).bit_length() - 1)


def _inclusion_indexes(index: int, size: int) -> tuple[list[int], slice | None]:
    """PATH(index, D[size]) as stored hashes, in proof order: one per proof hash, except for
    the one hash that may not be of a complete subtree (the range from where the path turns
    left, up to ``size``), stored as the subtrees tiling it, at the returned slice.

    The RFC's recursion, unrolled top-down: while the range holding ``index`` ends at ``size``
    and is not complete, it is split at the largest power of two; turning right, the proof
    takes the left part, a complete subtree; turning left (at most once, and then the range
    is complete), the right part, the tiling. Within the complete subtree reached, the proof
    takes the sibling at each level.
    """
    above: list[int] = []  # top-down
    tiling: list[int] = []
    lo, width = 0, size
    while width & (width - 1):
        level = width.bit_length() - 1
        if index < lo + (1 << level):
            tiling = _subtree_indexes(lo + (1 << level), size)
            width = 1 << level
        else:
            above.append(stored_hash_index(level, lo >> level))
            lo, width = lo + (1 << level), width - (1 << level)
    height = width.bit_length() - 1
    below = [stored_hash_index(level, (index >> level) ^ 1) for level in range(height)]
    edge = slice(height, height + len(tiling)) if tiling else None
    return below + tiling + above[::-1], edge


def _consistency_ranges(lo: int, hi: int, size1: int) -> list[_Range]:
    """Leaf ranges of SUBPROOF(size1 - lo, D[lo:hi], lo == 0), bottom-up."""
    if size1 == hi:
        return [] if lo == 0 else [(lo, hi)]
    mid = lo + _split(hi - lo)
    if size1 <= mid:
        return [*_consistency_ranges(lo, mid, size1), (mid, hi)]
    return [*_consistency_ranges(mid, hi, size1), (lo, mid)]


def _subtrees(lo: int, hi: int) -> list[tuple[int, int]]:
    """``(level, n)`` of the complete subtrees tiling ``[lo, hi)``, largest first."""
    subtrees = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        subtrees.append((level, lo >> level))
        lo += 1 << level
    return subtrees


def _subtree_indexes(lo: int, hi: int) -> list[int]:
    return [stored_hash_index(level, n) for level, n in _subtrees(lo, hi)]


def _range_hashes(ranges: Sequence[_Range], reader: HashReader) -> list[bytes]:
    """The MTH of each leaf range, from one read of the stored subtree hashes tiling them."""
    per_range = [_subtree_indexes(lo, hi) for lo, hi in ranges]
    hashes = iter(_read(reader, [index for indexes in per_range for index in indexes]))
    return [fold([next(hashes) for _ in indexes]) for indexes in per_range]


def _read(reader: HashReader, indexes: list[int]) -> list[bytes]:
    if not indexes:
        return []
    hashes = reader.read_hashes(indexes)
    if len(hashes) != len(indexes) or set(map(len, hashes)) != {HASH_SIZE}:
        raise AuditUnavailable("hash storage returned a wrong number or size of hashes")
    return hashes
