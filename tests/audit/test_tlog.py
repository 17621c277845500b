"""The tlog stored-hash layout: positions, appends, and roots and proofs in O(log n) reads."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.errors import AuditUnavailable, InvalidProofRequest
from audit.merkle import TreeAccumulator, leaf_hash, verify_consistency, verify_inclusion
from audit.tlog import (
    extend,
    proof_json,
    prove_record,
    prove_tree,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes_for,
    tree_hash,
)
from tests.audit.factories import distinct_leaves, mth, store_with

# (level, n) in storage order, as the layout writes them for leaves 0..7.
LAYOUT = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4), (0, 5), (1, 2)]
LAYOUT += [(0, 6), (0, 7), (1, 3), (2, 1), (3, 0)]


class CountingReader:
    """Wraps a reader; records every call so tests can count round trips and hashes read."""

    def __init__(self, hashes: Sequence[bytes]) -> None:
        self.hashes = hashes
        self.calls: list[list[int]] = []

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        self.calls.append(list(indexes))
        return [self.hashes[index] for index in indexes]


def test_storage_positions_follow_the_tlog_layout() -> None:
    for index, (level, n) in enumerate(LAYOUT):
        assert stored_hash_index(level, n) == index
        assert split_stored_hash_index(index) == (level, n)
    assert [stored_hash_count(size) for size in range(9)] == [0, 1, 3, 4, 7, 8, 10, 11, 15]


@given(st.integers(0, 1 << 40), st.integers(0, 20))
def test_split_inverts_index(n: int, level: int) -> None:
    assert split_stored_hash_index(stored_hash_index(level, n)) == (level, n)


def test_each_stored_hash_is_the_root_of_its_complete_subtree() -> None:
    leaves = distinct_leaves(37)
    hashes = store_with(leaves, batch_size=7).hashes()
    assert len(hashes) == stored_hash_count(37)
    for index, stored in enumerate(hashes):
        level, n = split_stored_hash_index(index)
        assert stored == mth(leaves[n << level : (n + 1) << level])


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 70), st.integers(1, 9))
def test_roots_and_proofs_agree_with_the_naive_definition(size: int, batch: int) -> None:
    leaves = distinct_leaves(size)
    store = store_with(leaves, batch_size=batch)
    for tree_size in range(size + 1):
        root = mth(leaves[:tree_size])
        assert tree_hash(tree_size, store) == root
        for index in range(tree_size):
            proof = prove_record(index, tree_size, store)
            verify_inclusion(leaf_hash(leaves[index]), index, tree_size, proof, root)
        for size1 in range(tree_size + 1):
            proof = prove_tree(size1, tree_size, store)
            verify_consistency(size1, tree_size, proof, mth(leaves[:size1]), root)


def test_a_batch_extend_equals_leaf_by_leaf_appends() -> None:
    hashes = [leaf_hash(leaf) for leaf in distinct_leaves(40)]
    one_by_one: list[bytes] = []
    reader = CountingReader(one_by_one)
    for n, hashed in enumerate(hashes):
        one_by_one += stored_hashes_for(n, hashed, reader)
    batched = list(extend(0, hashes[:11], reader))
    batched += extend(11, hashes[11:], CountingReader(batched))
    assert batched == one_by_one


def test_roots_proofs_and_appends_cost_one_read_of_log_n_hashes() -> None:
    size = 1000
    reader = CountingReader(store_with(distinct_leaves(size), batch_size=100).hashes())
    tree_hash(size, reader)
    prove_record(517, size, reader)
    prove_tree(333, size, reader)
    extend(size, [leaf_hash(b"next")] * 256, reader)
    assert len(reader.calls) == 4
    assert all(len(call) <= 2 * size.bit_length() for call in reader.calls)


def test_a_reader_returning_the_wrong_hashes_is_a_storage_failure() -> None:
    class Short:
        def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
            return [bytes(32)] * (len(indexes) - 1)

    class Truncated:
        def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
            return [bytes(31)] * len(indexes)

    for reader in (Short(), Truncated()):
        with pytest.raises(AuditUnavailable):
            tree_hash(5, reader)


def test_a_frontier_must_fit_the_tree_size() -> None:
    with pytest.raises(InvalidProofRequest):
        TreeAccumulator(3, [bytes(32)])


def test_proofs_render_as_the_public_json_document() -> None:
    document = json.loads(proof_json([bytes(32), b"\xff" * 32]))
    assert document == {"hashes": ["A" * 43 + "=", "/" * 42 + "8="]}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=70), min_size=1, max_size=6))
def test_a_tree_extended_by_whole_subtrees_equals_one_extended_leaf_by_leaf(
    chunks: list[int],
) -> None:
    """:meth:`TreeAccumulator.extend_tree` (aligned subtrees, level by level) reaches the same
    size, frontier and RFC 9162 root as appending the same leaf hashes one at a time, from
    any size, in chunks of any length."""
    leaves = distinct_leaves(sum(chunks))
    hashes = [leaf_hash(leaf) for leaf in leaves]
    by_subtrees, by_leaves = TreeAccumulator(), TreeAccumulator()
    done = 0
    for length in chunks:
        by_subtrees.extend_tree(hashes[done : done + length])
        for hashed in hashes[done : done + length]:
            by_leaves.append_hash(hashed)
        done += length
        assert by_subtrees.size == by_leaves.size == done
        assert by_subtrees.frontier == by_leaves.frontier
        assert by_subtrees.root() == mth(leaves[:done])
