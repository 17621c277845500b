"""RFC 9162 section 2.1 conformance: the worked examples of section 2.1.5, built from the
definitions, and verification failures (wrong index or size, truncated or extended proofs)."""

from __future__ import annotations

from hashlib import sha256

import pytest

from audit.errors import InvalidProof, InvalidProofRequest
from audit.merkle import (
    EMPTY_ROOT,
    leaf_hash,
    node_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)
from audit.tlog import prove_record, prove_tree, tree_hash
from tests.audit.factories import distinct_leaves, mth, store_with

D = [f"d{i}".encode() for i in range(7)]
a, b, c, d, e, f, j = (sha256(b"\x00" + leaf).digest() for leaf in D)
g, h, i = (sha256(b"\x01" + x + y).digest() for x, y in ((a, b), (c, d), (e, f)))
k = sha256(b"\x01" + g + h).digest()
l = sha256(b"\x01" + i + j).digest()  # noqa: E741 - the RFC's name
ROOT = sha256(b"\x01" + k + l).digest()
STORE = store_with(D)


def test_hashing_is_the_rfc_definition() -> None:
    assert sha256(b"").digest() == EMPTY_ROOT
    assert leaf_hash(D[0]) == a
    assert node_hash(a, b) == g
    assert tree_hash(7, STORE) == root_from_leaves(D) == mth(D) == ROOT


@pytest.mark.parametrize(
    ("index", "path"),
    [(0, [b, h, l]), (3, [c, g, l]), (4, [f, j, k]), (6, [i, k])],
)
def test_inclusion_examples_of_section_2_1_5(index: int, path: list[bytes]) -> None:
    assert prove_record(index, 7, STORE) == path
    verify_inclusion(leaf_hash(D[index]), index, 7, path, ROOT)


@pytest.mark.parametrize(
    ("size1", "root1", "path"),
    [
        (3, node_hash(g, c), [c, d, g, l]),
        (4, k, [l]),
        (6, node_hash(k, i), [i, j, k]),
    ],
)
def test_consistency_examples_of_section_2_1_5(size1: int, root1: bytes, path: list[bytes]) -> None:
    assert mth(D[:size1]) == root1
    assert prove_tree(size1, 7, STORE) == path
    verify_consistency(size1, 7, path, root1, ROOT)


def test_inclusion_rejects_wrong_index_and_wrong_size() -> None:
    for index in (1, 2, 4, 6, 7, -1):
        with pytest.raises(InvalidProof):
            verify_inclusion(a, index, 7, [b, h, l], ROOT)
    for size in (*range(7), *range(8, 17)):
        with pytest.raises(InvalidProof):
            verify_inclusion(j, 6, size, [i, k], ROOT)


def test_a_size_with_the_same_proof_shape_is_bound_only_by_the_signed_root() -> None:
    """RFC 9162 proofs bind the size through the root: the leftmost path has the same shape
    in trees of 5 to 8 leaves. This is why checkpoints sign (size, root) together."""
    verify_inclusion(a, 0, 8, [b, h, l], ROOT)
    with pytest.raises(InvalidProof):
        verify_inclusion(a, 0, 8, [b, h, l], mth([*D, b"d7"]))


def test_inclusion_rejects_truncated_extended_and_reordered_proofs() -> None:
    for proof in ([b, h], [b], [], [b, h, l, l], [b, h, l, ROOT], [h, b, l], [l, h, b]):
        with pytest.raises(InvalidProof):
            verify_inclusion(a, 0, 7, proof, ROOT)


def test_consistency_rejects_truncated_extended_and_wrong_sizes() -> None:
    root1, proof = node_hash(g, c), [c, d, g, l]
    bad = [
        (3, 7, [c, d, g], root1),
        (3, 7, [c, d, g, l, l], root1),
        (3, 7, [], root1),
        (3, 7, [d, c, g, l], root1),
        (2, 7, proof, root1),
        (3, 4, proof, root1),
        (3, 9, proof, root1),
        (7, 3, proof, root1),
        (3, 7, proof, ROOT),
    ]
    for size1, size2, path, first in bad:
        with pytest.raises(InvalidProof):
            verify_consistency(size1, size2, path, first, ROOT)


def test_trivial_consistency_needs_an_empty_proof() -> None:
    verify_consistency(7, 7, [], ROOT, ROOT)
    verify_consistency(0, 7, [], EMPTY_ROOT, ROOT)
    for size1, path, first in ((7, [l], ROOT), (7, [], k), (0, [l], EMPTY_ROOT), (0, [], k)):
        with pytest.raises(InvalidProof):
            verify_consistency(size1, 7, path, first, ROOT)


def test_hashes_of_the_wrong_length_are_rejected() -> None:
    with pytest.raises(InvalidProof):
        verify_inclusion(a, 0, 7, [b, h, l[:31]], ROOT)
    with pytest.raises(InvalidProof):
        verify_consistency(4, 7, [l + b"\x00"], k, ROOT)


def test_impossible_proof_requests_are_refused() -> None:
    for call in (
        lambda: prove_record(7, 7, STORE),
        lambda: prove_record(-1, 7, STORE),
        lambda: prove_tree(5, 4, STORE),
        lambda: prove_tree(-1, 4, STORE),
        lambda: tree_hash(-1, STORE),
    ):
        with pytest.raises(InvalidProofRequest):
            call()


@pytest.mark.parametrize("size", range(1, 18))
def test_every_single_hash_change_breaks_every_proof(size: int) -> None:
    """Exhaustive over small trees: each proof verifies, and any one flipped bit fails it."""
    leaves = distinct_leaves(size)
    store = store_with(leaves)
    root = mth(leaves)
    for index in range(size):
        proof = prove_record(index, size, store)
        verify_inclusion(leaf_hash(leaves[index]), index, size, proof, root)
        for position in range(len(proof)):
            broken = [*proof]
            broken[position] = bytes([broken[position][0] ^ 1]) + broken[position][1:]
            with pytest.raises(InvalidProof):
                verify_inclusion(leaf_hash(leaves[index]), index, size, broken, root)
    for size1 in range(1, size):
        proof = prove_tree(size1, size, store)
        verify_consistency(size1, size, proof, mth(leaves[:size1]), root)
        for position in range(len(proof)):
            broken = [*proof]
            broken[position] = bytes([broken[position][0] ^ 1]) + broken[position][1:]
            with pytest.raises(InvalidProof):
                verify_consistency(size1, size, broken, mth(leaves[:size1]), root)
