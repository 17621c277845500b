"""C2SP tlog-witness: the add-checkpoint body, and every answer the specification requires."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.errors import InvalidProof, MalformedNote
from audit.note import Cosigner, NoteSigner, verify_cosignature
from audit.tlog import prove_tree, tree_hash
from audit.witness import (
    AddCheckpoint,
    UnknownLog,
    UntrustedCheckpoint,
    Witness,
    WitnessBadRequest,
    WitnessConflict,
    WitnessedHead,
)
from tests.audit.factories import ORIGIN, distinct_leaves, store_with

NOW = 1_700_000_000


class MemoryWitnessStore:
    def __init__(self) -> None:
        self.heads: dict[str, WitnessedHead] = {}

    def latest(self, origin: str) -> WitnessedHead | None:
        return self.heads.get(origin)

    def record(self, origin: str, head: WitnessedHead) -> None:
        self.heads[origin] = head


class Log:
    """A log in memory that signs checkpoints of any prefix of its leaves."""

    def __init__(self, signer: NoteSigner, leaves: list[bytes]) -> None:
        self.signer = signer
        self.store = store_with(leaves)

    def note(self, size: int) -> str:
        head = Checkpoint(self.signer.name, size, tree_hash(size, self.store))
        return sign_checkpoint(head, [self.signer])

    def request(self, old: int, size: int) -> AddCheckpoint:
        return AddCheckpoint(old, tuple(prove_tree(old, size, self.store)), self.note(size))


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture
def log(signer: NoteSigner) -> Log:
    return Log(signer, distinct_leaves(20))


@pytest.fixture
def cosigner() -> Cosigner:
    return Cosigner("witness.test/w1", Ed25519PrivateKey.generate())


@pytest.fixture
def store() -> MemoryWitnessStore:
    return MemoryWitnessStore()


@pytest.fixture
def witness(cosigner: Cosigner, signer: NoteSigner, store: MemoryWitnessStore) -> Witness:
    return Witness(cosigner, [signer.verifier()], store, clock=lambda: NOW)


def test_the_body_is_old_size_proof_lines_blank_line_checkpoint(log: Log) -> None:
    request = log.request(5, 13)
    body = request.to_body()
    lines = body.split("\n")
    assert lines[0] == "old 5"
    assert [base64.b64decode(line) for line in lines[1 : 1 + len(request.proof)]] == list(
        request.proof
    )
    assert body.endswith("\n\n" + log.note(13))
    assert AddCheckpoint.parse(body) == request
    assert AddCheckpoint.parse(f"old 0\n\n{log.note(3)}") == AddCheckpoint(0, (), log.note(3))


def test_cosigns_a_first_checkpoint_and_each_that_extends_it(
    witness: Witness, log: Log, cosigner: Cosigner, store: MemoryWitnessStore
) -> None:
    for old, size in ((0, 7), (7, 7), (7, 20)):
        line = witness.add_checkpoint(log.request(old, size))
        assert line.startswith(f"\u2014 {cosigner.name} ") and line.endswith("\n")
        assert verify_cosignature(log.note(size) + line, cosigner.verifier()) == NOW
    assert store.heads[ORIGIN] == WitnessedHead(20, tree_hash(20, log.store))


def test_a_stale_old_size_is_409_with_the_witness_size(witness: Witness, log: Log) -> None:
    witness.add_checkpoint(log.request(0, 7))
    for old in (0, 5, 8):
        with pytest.raises(WitnessConflict) as conflict:
            witness.add_checkpoint(log.request(old, 13))
        assert conflict.value.size == 7
        assert conflict.value.status == 409


def test_a_fork_is_refused(witness: Witness, log: Log, signer: NoteSigner) -> None:
    witness.add_checkpoint(log.request(0, 7))
    forked = Log(signer, [b"forged", *distinct_leaves(20)[1:]])
    with pytest.raises(WitnessConflict, match="forked"):
        witness.add_checkpoint(forked.request(7, 7))
    with pytest.raises(InvalidProof):
        witness.add_checkpoint(forked.request(7, 13))
    spliced = AddCheckpoint(7, log.request(7, 13).proof, forked.note(13))
    with pytest.raises(InvalidProof):
        witness.add_checkpoint(spliced)


def test_unknown_origins_untrusted_keys_and_bad_requests(
    witness: Witness, log: Log, store: MemoryWitnessStore
) -> None:
    stranger = Log(NoteSigner("other.test/log", Ed25519PrivateKey.generate()), [b"x"])
    with pytest.raises(UnknownLog):
        witness.add_checkpoint(stranger.request(0, 1))
    impostor = Log(NoteSigner(ORIGIN, Ed25519PrivateKey.generate()), distinct_leaves(20))
    with pytest.raises(UntrustedCheckpoint):
        witness.add_checkpoint(impostor.request(0, 7))
    with pytest.raises(WitnessBadRequest):
        witness.add_checkpoint(AddCheckpoint(9, (), log.note(7)))
    with pytest.raises(InvalidProof):
        witness.add_checkpoint(AddCheckpoint(0, (bytes(32),), log.note(7)))
    assert store.heads == {}


@pytest.mark.parametrize(
    "body",
    [
        "old 01\n\nx",
        "old -1\n\nx",
        "old 3\nnot base64!\n\nx",
        "old 3\n",
        "new 3\n\nx",
        "old 3\n" + "AAAA\n" * 64 + "\nx",
    ],
)
def test_malformed_bodies_are_400(body: str) -> None:
    with pytest.raises(WitnessBadRequest) as refused:
        AddCheckpoint.parse(body)
    assert refused.value.status == 400


def test_a_malformed_checkpoint_is_400(witness: Witness) -> None:
    with pytest.raises(WitnessBadRequest):
        witness.add_checkpoint(AddCheckpoint(0, (), "not a note"))


def test_a_witness_takes_log_keys_only(cosigner: Cosigner, store: MemoryWitnessStore) -> None:
    with pytest.raises(MalformedNote):
        Witness(cosigner, [cosigner.verifier()], store)
