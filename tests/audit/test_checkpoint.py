"""C2SP tlog-checkpoint bodies and the rule that no signed checkpoint contradicts an earlier one."""

from __future__ import annotations

import base64

import pytest

from audit.checkpoint import Checkpoint, next_checkpoint, open_checkpoint, sign_checkpoint
from audit.errors import InconsistentCheckpoint, MalformedNote, UntrustedNote
from audit.memory import MemoryLogStore
from audit.merkle import EMPTY_ROOT, leaf_hash
from audit.sequencer import Batch
from tests.audit.factories import ORIGIN, distinct_leaves, log_signer, mth, store_with

ROOT = bytes(range(32))
BODY = f"{ORIGIN}\n13\n{base64.b64encode(ROOT).decode()}\n"


def test_body_is_origin_size_and_base64_root() -> None:
    checkpoint = Checkpoint(ORIGIN, 13, ROOT)
    assert checkpoint.to_body() == BODY
    assert Checkpoint.parse(BODY) == checkpoint
    assert Checkpoint.parse(f"{ORIGIN}\n0\n{base64.b64encode(EMPTY_ROOT).decode()}\n").size == 0


@pytest.mark.parametrize(
    "body",
    [
        BODY[:-1],
        BODY + "extension line\n",
        BODY.replace("\n13\n", "\n013\n"),
        BODY.replace("\n13\n", "\n+13\n"),
        BODY.replace("\n13\n", "\n1_3\n"),
        BODY.replace("\n13\n", "\n\u0661\u0663\n"),
        BODY.replace("\n13\n", "\n 13\n"),
        BODY.replace("\n13\n", "\n9223372036854775808\n"),
        BODY.replace("\n13\n", "\n\n"),
        BODY.replace(ORIGIN, ""),
        BODY.replace("=\n", "\n"),
        f"{ORIGIN}\n13\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"{ORIGIN}\n13\n\n",
    ],
)
def test_parse_is_strict(body: str) -> None:
    with pytest.raises(MalformedNote):
        Checkpoint.parse(body)


def test_open_checkpoint_checks_signature_and_origin() -> None:
    signer = log_signer()
    note = sign_checkpoint(Checkpoint(ORIGIN, 13, ROOT), [signer])
    assert open_checkpoint(note, [signer.verifier()], ORIGIN) == Checkpoint(ORIGIN, 13, ROOT)
    with pytest.raises(MalformedNote):
        open_checkpoint(note, [signer.verifier()], "another.test/log")
    with pytest.raises(UntrustedNote):
        open_checkpoint(note, [log_signer().verifier()], ORIGIN)


def test_next_checkpoint_signs_consistent_growth() -> None:
    leaves = distinct_leaves(13)
    store, signer = store_with(leaves), log_signer()
    trusted = [signer.verifier()]
    previous = None
    for size in (0, 1, 5, 8, 13):
        note = next_checkpoint(
            origin=ORIGIN,
            tree_size=size,
            reader=store,
            signers=[signer],
            previous=previous,
            trusted=trusted,
        )
        assert open_checkpoint(note, trusted, ORIGIN) == Checkpoint(
            ORIGIN, size, mth(leaves[:size])
        )
        previous = note
    same = next_checkpoint(
        origin=ORIGIN,
        tree_size=13,
        reader=store,
        signers=[signer],
        previous=previous,
        trusted=trusted,
    )
    assert same == previous


def test_next_checkpoint_refuses_to_contradict_history() -> None:
    signer = log_signer()
    honest = store_with(distinct_leaves(8))
    previous = sign_checkpoint(Checkpoint(ORIGIN, 8, mth(distinct_leaves(8))), [signer])
    rewritten = store_with([b"rewritten", *distinct_leaves(13)[1:]])
    for store, size in ((rewritten, 13), (rewritten, 8), (honest, 5)):
        with pytest.raises(InconsistentCheckpoint):
            next_checkpoint(
                origin=ORIGIN,
                tree_size=size,
                reader=store,
                signers=[signer],
                previous=previous,
                trusted=[signer.verifier()],
            )


def test_next_checkpoint_refuses_an_unverifiable_previous_checkpoint() -> None:
    signer, store = log_signer(), MemoryLogStore()
    store.append_batch(Batch((b"x",), (leaf_hash(b"x"),)))
    forged = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), [log_signer()])
    with pytest.raises(UntrustedNote):
        next_checkpoint(
            origin=ORIGIN,
            tree_size=1,
            reader=store,
            signers=[signer],
            previous=forged,
            trusted=[signer.verifier()],
        )


def test_rotation_signs_with_both_keys_and_accepts_a_previous_by_the_old_key() -> None:
    old, new = log_signer(), log_signer()
    store = store_with(distinct_leaves(4))
    previous = sign_checkpoint(Checkpoint(ORIGIN, 2, mth(distinct_leaves(2))), [old])
    note = next_checkpoint(
        origin=ORIGIN,
        tree_size=4,
        reader=store,
        signers=[old, new],
        previous=previous,
        trusted=[old.verifier(), new.verifier()],
    )
    assert open_checkpoint(note, [new.verifier()], ORIGIN).size == 4
    assert open_checkpoint(note, [old.verifier()], ORIGIN).size == 4
