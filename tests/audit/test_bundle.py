"""Inclusion bundles: what a citizen keeps verifies offline, and any change to it fails."""

from __future__ import annotations

import json

import pytest

from audit.bundle import BundleEntry, Previous, verify_bundle, write_bundle
from audit.errors import VerificationFailed
from audit.memory import MemoryLogStore
from audit.tlog import prove_record, prove_tree
from tests.audit.factories import checkpoint_history, distinct_leaves, log_signer, store_with

LEAVES = distinct_leaves(30)
ABOUT_ME = (2, 17, 29)


def entries(store: MemoryLogStore, size: int) -> list[BundleEntry]:
    return [
        BundleEntry(index, LEAVES[index], tuple(prove_record(index, size, store)))
        for index in ABOUT_ME
        if index < size
    ]


@pytest.fixture
def store() -> MemoryLogStore:
    return store_with(LEAVES)


def test_a_bundle_verifies_with_the_logs_key_and_its_previous_checkpoint(
    store: MemoryLogStore,
) -> None:
    signer = log_signer()
    old, new = checkpoint_history(store, [20, 30], signer)
    previous = Previous(old, tuple(prove_tree(20, 30, store)))
    report = verify_bundle(write_bundle(new, entries(store, 30), previous), signer.verifier())
    assert (report.checkpoint.size, report.entries) == (30, 3)
    assert report.previous is not None and report.previous.size == 20
    alone = verify_bundle(write_bundle(old, entries(store, 20), None), signer.verifier())
    assert (alone.entries, alone.previous) == (2, None)


def tampered(document: dict[str, object], path: tuple[object, ...], value: object) -> str:
    target: object = document
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    return json.dumps(document)


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("entries", 0, "leaf"), "Zm9yZ2Vk", "entry 2"),
        (("entries", 1, "leaf_index"), 18, "entry 18"),
        (("entries", 0, "inclusion"), [], "entry 2"),
        (("previous", "consistency"), [], "not consistent with the one of size 20"),
        (("checkpoint",), "x\n\n", "the checkpoint"),
        (("format",), "other", "is not a"),
        (("entries", 0, "leaf_index"), -1, "is not a"),
    ],
)
def test_any_change_fails_and_says_where(
    store: MemoryLogStore, path: tuple[object, ...], value: object, reason: str
) -> None:
    signer = log_signer()
    old, new = checkpoint_history(store, [20, 30], signer)
    previous = Previous(old, tuple(prove_tree(20, 30, store)))
    document = json.loads(write_bundle(new, entries(store, 30), previous))
    with pytest.raises(VerificationFailed, match=reason):
        verify_bundle(tampered(document, path, value), signer.verifier())


def test_another_key_or_a_forked_previous_fails(store: MemoryLogStore) -> None:
    signer = log_signer()
    old, new = checkpoint_history(store, [20, 30], signer)
    bundle = write_bundle(new, entries(store, 30), Previous(old, tuple(prove_tree(20, 30, store))))
    with pytest.raises(VerificationFailed, match="no trusted key"):
        verify_bundle(bundle, log_signer().verifier())
    fork = store_with([b"forged", *LEAVES[1:]])
    (forked_old,) = checkpoint_history(fork, [20], signer)
    forked = write_bundle(new, [], Previous(forked_old, tuple(prove_tree(20, 30, store))))
    with pytest.raises(VerificationFailed, match="not consistent"):
        verify_bundle(forked, signer.verifier())
