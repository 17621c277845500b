"""Exhaustive tamper detection over a 13-leaf log (Art. 61(3)): EVERY change, deletion,
reordering or insertion of a stored leaf, stored hash or stored checkpoint is detected."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import combinations
from typing import TypeVar

import pytest

from audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from audit.errors import InvalidProof, VerificationFailed
from audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.tlog import prove_record, prove_tree
from audit.verify import verify_log
from tests.audit.factories import ORIGIN, checkpoint_history, log_signer, store_with

LEAVES = [f"event {i:02d} of the audit log".encode() for i in range(13)]
SIZES = (1, 4, 7, 8, 13)
T = TypeVar("T")
STORE = store_with(LEAVES, batch_size=3)
HASHES = STORE.hashes()
SIGNER = log_signer()
TRUSTED = [SIGNER.verifier()]
NOTES = checkpoint_history(STORE, SIZES, SIGNER)
SEEN = [open_checkpoint(note, TRUSTED, ORIGIN) for note in NOTES]


def verify(
    leaves: Sequence[bytes] = LEAVES,
    hashes: Sequence[bytes] = HASHES,
    notes: Sequence[str] = NOTES,
    seen: Sequence[Checkpoint] = SEEN,
) -> None:
    verify_log(leaves, notes, TRUSTED, origin=ORIGIN, seen=seen, stored_hashes=hashes)


def flips(value: bytes) -> Iterator[bytes]:
    """A change at every byte, plus one byte longer and one shorter."""
    for position in range(len(value)):
        yield value[:position] + bytes([value[position] ^ 0x80]) + value[position + 1 :]
    yield value + b"\x00"
    yield value[:-1]


def mutations(items: Sequence[T], changes: Callable[[T], Iterator[T]]) -> Iterator[list[T]]:
    """Every changed item, every deletion, every swap of two, every insertion of any item."""
    for index, item in enumerate(items):
        for changed in changes(item):
            yield [*items[:index], changed, *items[index + 1 :]]
        yield [*items[:index], *items[index + 1 :]]
    for first, second in combinations(range(len(items)), 2):
        swapped = list(items)
        swapped[first], swapped[second] = swapped[second], swapped[first]
        yield swapped
    for position in range(len(items) + 1):
        for item in items:
            yield [*items[:position], item, *items[position:]]


def char_changes(note: str) -> Iterator[str]:
    for position, char in enumerate(note):
        yield note[:position] + ("B" if char == "A" else "A") + note[position + 1 :]


def test_the_untouched_log_verifies() -> None:
    report = verify_log(LEAVES, NOTES, TRUSTED, origin=ORIGIN, seen=SEEN, stored_hashes=HASHES)
    assert report.checkpoint == SEEN[-1]
    assert report.checkpoints_checked == len(SIZES)
    assert report.stored_hashes_checked == len(HASHES) == 23


def test_every_leaf_mutation_is_detected() -> None:
    count = 0
    for leaves in mutations(LEAVES, flips):
        with pytest.raises(VerificationFailed):
            verify(leaves=leaves)
        count += 1
    assert count == 13 * (len(LEAVES[0]) + 2) + 13 + 78 + 14 * 13


def test_every_stored_hash_mutation_is_detected() -> None:
    for hashes in mutations(HASHES, flips):
        with pytest.raises(VerificationFailed):
            verify(hashes=hashes)


def test_every_stored_checkpoint_mutation_is_detected() -> None:
    stranger = sign_checkpoint(SEEN[2], [log_signer()])
    for notes in mutations([*NOTES], char_changes):
        with pytest.raises(VerificationFailed):
            verify(notes=notes)
    for position in range(len(NOTES) + 1):
        with pytest.raises(VerificationFailed):
            verify(notes=[*NOTES[:position], stranger, *NOTES[position:]])


def test_without_a_state_file_changes_reorders_and_duplicates_are_still_detected() -> None:
    for notes in mutations([*NOTES], char_changes):
        if len(notes) >= len(NOTES):
            with pytest.raises(VerificationFailed):
                verify(notes=notes, seen=[])


def test_every_changed_stored_hash_breaks_a_served_proof() -> None:
    """Online detection: proofs served from a tampered store fail against signed roots."""
    for index in range(len(HASHES)):
        hashes = [*HASHES]
        hashes[index] = bytes([hashes[index][0] ^ 1]) + hashes[index][1:]
        with pytest.raises(InvalidProof):
            check_served_proofs(ListReader(hashes))
    check_served_proofs(ListReader(HASHES))


class ListReader:
    def __init__(self, hashes: Sequence[bytes]) -> None:
        self.hashes = hashes

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return [self.hashes[index] for index in indexes]


def check_served_proofs(reader: ListReader) -> None:
    latest = SEEN[-1]
    for index, leaf in enumerate(LEAVES):
        proof = prove_record(index, latest.size, reader)
        verify_inclusion(leaf_hash(leaf), index, latest.size, proof, latest.root)
    for earlier in SEEN[:-1]:
        proof = prove_tree(earlier.size, latest.size, reader)
        verify_consistency(earlier.size, latest.size, proof, earlier.root, latest.root)
