"""Merkle tree hashing and proof verification, RFC 9162 section 2.1 (RFC 6962 section 2.1).

* :func:`leaf_hash` is ``SHA-256(0x00 || leaf)``, :func:`node_hash` is
  ``SHA-256(0x01 || left || right)``, the empty tree's root is ``SHA-256()``.
* :func:`verify_inclusion` follows section 2.1.3.2 and :func:`verify_consistency` section
  2.1.4.2 step by step. Both raise :class:`~audit.errors.InvalidProof`; they never return a
  bool. Truncated, extended, reordered or foreign proofs all fail.
* :class:`TreeAccumulator` computes the root of a stream of leaves in O(n) time and
  O(log n) memory, and yields, leaf by leaf, the hashes the log stores for it (the layout of
  :mod:`audit.tlog`). The offline verifier and the sequencer both build on it; both give it
  leaves by the thousand (:meth:`TreeAccumulator.extend_hashes`,
  :meth:`TreeAccumulator.extend_tree`), so that hashing, not the interpreter, sets the pace.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256
from hmac import compare_digest

from audit.errors import InvalidProof, InvalidProofRequest

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(leaf: bytes) -> bytes:
    """MTH of a one-leaf tree: ``SHA-256(0x00 || leaf)``."""
    return sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: ``SHA-256(0x01 || left || right)``."""
    return sha256(_NODE_PREFIX + left + right).digest()


def leaf_hashes(leaves: Iterable[bytes]) -> list[bytes]:
    """:func:`leaf_hash` of each leaf, in one loop."""
    return [sha256(_LEAF_PREFIX + leaf).digest() for leaf in leaves]


def subtree_hash(hashes: Sequence[bytes]) -> bytes:
    """The root of a complete subtree over ``hashes`` (a power of two of them, at least one),
    hashed level by level: each level in one loop over pairs."""
    level = list(hashes)
    while len(level) > 1:
        level = [
            sha256(_NODE_PREFIX + left + right).digest()
            for left, right in zip(level[0::2], level[1::2], strict=True)
        ]
    return level[0]


def subtree_roots(start: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The roots of the complete subtrees tiling leaves ``start`` onwards, left to right: each
    the largest that its position and the leaves left allow. A tree of ``start`` leaves grows
    by these (:meth:`TreeAccumulator.extend_subtrees`), so leaves can be hashed apart from the
    tree, on another process, knowing only where they start."""
    roots = []
    done = 0
    for level in _tiling(start, len(leaf_hashes)):
        roots.append(subtree_hash(leaf_hashes[done : done + (1 << level)]))
        done += 1 << level
    return roots


def _tiling(start: int, count: int) -> list[int]:
    """The levels of the subtrees of :func:`subtree_roots`."""
    levels = []
    while count:
        aligned = (start & -start).bit_length() - 1 if start else 64  # trailing zero bits
        level = min(aligned, count.bit_length() - 1)
        levels.append(level)
        start, count = start + (1 << level), count - (1 << level)
    return levels


def fold(hashes: Sequence[bytes]) -> bytes:
    """Root over the roots of consecutive complete subtrees, largest (leftmost) first."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


class TreeAccumulator:
    """Appends leaves one by one; knows the root at every size (a compact range from 0).

    ``frontier`` holds the roots of the maximal complete subtrees of the current tree, left to
    right: exactly the hashes the tlog layout needs to continue a tree of ``size`` leaves.
    """

    __slots__ = ("_stack", "size")

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        if size < 0 or len(frontier) != size.bit_count():
            raise InvalidProofRequest(
                f"a tree of {size} leaves has {size.bit_count()} frontier hashes"
            )
        _check_hashes(frontier)
        self.size = size
        self._stack = list(frontier)

    def append(self, leaf: bytes) -> list[bytes]:
        """Add a leaf; return the hashes stored for it (its leaf hash, then completed nodes)."""
        return self.append_hash(sha256(_LEAF_PREFIX + leaf).digest())

    def append_hash(self, hashed: bytes) -> list[bytes]:
        """Like :meth:`append` for a leaf already hashed with :func:`leaf_hash`."""
        return self.extend_hashes((hashed,))

    def extend_hashes(self, leaf_hashes: Iterable[bytes]) -> list[bytes]:
        """:meth:`append_hash` of each, in one loop: the hashes stored for all, in order."""
        stored: list[bytes] = []
        store = stored.append
        stack = self._stack
        size = self.size
        for leaf in leaf_hashes:
            hashed = leaf
            store(hashed)
            size += 1
            completed = size
            while not completed & 1:
                hashed = sha256(_NODE_PREFIX + stack.pop() + hashed).digest()
                store(hashed)
                completed >>= 1
            stack.append(hashed)
        self.size = size
        return stored

    def extend_tree(self, leaf_hashes: Sequence[bytes]) -> None:
        """Like :meth:`extend_hashes` without returning the stored hashes, faster: the leaves
        are taken in the largest complete subtrees the tree's size allows, each hashed level by
        level (:func:`subtree_roots`) and then merged into the frontier."""
        self.extend_subtrees(len(leaf_hashes), subtree_roots(self.size, leaf_hashes))

    def extend_subtrees(self, count: int, roots: Sequence[bytes]) -> None:
        """Add ``count`` leaves given as the roots of the complete subtrees tiling them
        (:func:`subtree_roots` of the tree's size), wherever they were hashed."""
        stack = self._stack
        for level, root in zip(_tiling(self.size, count), roots, strict=True):
            hashed = root
            self.size += 1 << level
            completed = self.size >> level
            while not completed & 1:
                hashed = sha256(_NODE_PREFIX + stack.pop() + hashed).digest()
                completed >>= 1
            stack.append(hashed)

    @property
    def frontier(self) -> tuple[bytes, ...]:
        return tuple(self._stack)

    def root(self) -> bytes:
        """The RFC 9162 MTH of the leaves appended so far."""
        return fold(self._stack)


def root_from_leaves(leaves: Iterable[bytes]) -> bytes:
    """MTH(D[n]) of the given leaves (raw leaf bytes, not hashes), streaming."""
    accumulator = TreeAccumulator()
    for leaf in leaves:
        accumulator.append(leaf)
    return accumulator.root()


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 section 2.1.3.2: ``leaf`` (a leaf hash) is at ``index`` in the tree ``root``."""
    _check_hashes([leaf, root, *proof])
    if not 0 <= index < tree_size:
        raise InvalidProof(f"leaf index {index} is not below tree size {tree_size}")
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            raise InvalidProof("inclusion proof is longer than the tree requires")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProof("inclusion proof is shorter than the tree requires")
    _require_equal(r, root, f"inclusion proof for index {index} does not lead to the root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 section 2.1.4.2: the tree ``root2`` of ``size2`` extends ``root1`` of ``size1``.

    Beyond the RFC's ``0 < size1 < size2``: equal sizes need an empty proof and equal roots;
    ``size1 == 0`` needs an empty proof and ``root1`` the empty tree's root.
    """
    _check_hashes([root1, root2, *proof])
    if not 0 <= size1 <= size2:
        raise InvalidProof(f"tree size {size1} cannot precede tree size {size2}")
    if size1 in (0, size2):
        _verify_trivial_consistency(size1, proof, root1, root2)
        return
    if not proof:
        raise InvalidProof("consistency proof is empty")
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof("consistency proof is longer than the trees require")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProof("consistency proof is shorter than the trees require")
    _require_equal(fr, root1, f"consistency proof does not lead to the root of size {size1}")
    _require_equal(sr, root2, f"consistency proof does not lead to the root of size {size2}")


def _verify_trivial_consistency(
    size1: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    if proof:
        raise InvalidProof(f"consistency proof from size {size1} must be empty")
    expected = EMPTY_ROOT if size1 == 0 else root2
    _require_equal(root1, expected, f"root of size {size1} does not match")


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until LSB(fn) is set or fn is 0 (the RFC's inner loop)."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def _require_equal(computed: bytes, expected: bytes, message: str) -> None:
    if not compare_digest(computed, expected):
        raise InvalidProof(message)


def _check_hashes(hashes: Iterable[bytes]) -> None:
    for value in hashes:
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise InvalidProof(f"a hash must be {HASH_SIZE} bytes")
