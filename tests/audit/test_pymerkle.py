"""Cross-check against pymerkle 7 (RFC 6962 hashing: 0x00 leaf and 0x01 node prefixes are its
default "security" mode, sha256 its default algorithm; its indexes count from one).

Roots and inclusion paths must be identical. pymerkle orders consistency paths its own way
(not RFC 9162 PROOF), so there each side's proof must verify against the other side's roots.
"""

from __future__ import annotations

import pymerkle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.merkle import root_from_leaves, verify_consistency
from audit.tlog import prove_record, prove_tree, tree_hash
from tests.audit.factories import distinct_leaves, store_with


def reference_tree(leaves: list[bytes]) -> pymerkle.InmemoryTree:
    return pymerkle.InmemoryTree.init_from_entries(leaves, algorithm="sha256")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=40))
def test_roots_match_pymerkle(leaves: list[bytes]) -> None:
    tree, store = reference_tree(leaves), store_with(leaves)
    for size in range(len(leaves) + 1):
        assert tree_hash(size, store) == tree.get_root(size)
    assert root_from_leaves(leaves) == tree.get_root()


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 13, 33])
def test_inclusion_paths_match_pymerkle(size: int) -> None:
    leaves = distinct_leaves(size)
    tree, store = reference_tree(leaves), store_with(leaves)
    for tree_size in range(1, size + 1):
        for index in range(tree_size):
            reference = tree.prove_inclusion(index + 1, tree_size)
            assert reference.path[0] == tree.get_leaf(index + 1)
            assert prove_record(index, tree_size, store) == reference.path[1:]


@pytest.mark.parametrize("size", [2, 7, 13, 33])
def test_consistency_proofs_cross_verify_with_pymerkle(size: int) -> None:
    leaves = distinct_leaves(size)
    tree, store = reference_tree(leaves), store_with(leaves)
    for size2 in range(1, size + 1):
        root2 = tree_hash(size2, store)
        for size1 in range(1, size2 + 1):
            root1 = tree_hash(size1, store)
            reference = tree.prove_consistency(size1, size2)
            pymerkle.verify_consistency(root1, root2, reference, size1, size2)
            ours = prove_tree(size1, size2, store)
            verify_consistency(size1, size2, ours, tree.get_root(size1), tree.get_root(size2))
