"""The witness's HTTP face (C2SP tlog-witness): each answer with the status and body the
specification requires - 200 cosignature lines, 409 ``text/x.tlog.size``, 400/403/404/422."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.note import Cosigner, NoteSigner, verify_cosignature
from audit.tlog import prove_tree, tree_hash
from audit.witness import AddCheckpoint, Witness
from gateway.audit_log.witness import FileWitnessStore
from gateway.witness_server import create_witness_app
from tests.audit.factories import ORIGIN, distinct_leaves, store_with
from tests.gateway.test_problems import assert_problem

STORE = store_with(distinct_leaves(12))


def note(signer: NoteSigner, size: int) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, tree_hash(size, STORE)), [signer])


def body(signer: NoteSigner, old: int, size: int) -> str:
    return AddCheckpoint(old, tuple(prove_tree(old, size, STORE)), note(signer, size)).to_body()


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture
def cosigner() -> Cosigner:
    return Cosigner("witness.test/w1", Ed25519PrivateKey.generate())


@pytest.fixture
def http(signer: NoteSigner, cosigner: Cosigner, tmp_path: Path) -> TestClient:
    store = FileWitnessStore(tmp_path / "state.json")
    return TestClient(create_witness_app(Witness(cosigner, [signer.verifier()], store)))


def test_every_answer_of_add_checkpoint(
    http: TestClient, signer: NoteSigner, cosigner: Cosigner, tmp_path: Path
) -> None:
    cosigned = http.post("/add-checkpoint", content=body(signer, 0, 5).encode())
    assert cosigned.status_code == 200
    verify_cosignature(note(signer, 5) + cosigned.text, cosigner.verifier())
    assert FileWitnessStore(tmp_path / "state.json").latest(ORIGIN) is not None

    stale = http.post("/add-checkpoint", content=body(signer, 0, 9).encode())
    assert (stale.status_code, stale.text) == (409, "5\n")
    assert stale.headers["content-type"] == "text/x.tlog.size"
    assert http.post("/add-checkpoint", content=body(signer, 5, 9).encode()).status_code == 200

    forged_proof = AddCheckpoint(9, (bytes(32),), note(signer, 12)).to_body()
    assert_problem(http.post("/add-checkpoint", content=forged_proof.encode()), 422)
    impostor = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    assert_problem(http.post("/add-checkpoint", content=body(impostor, 9, 12).encode()), 403)
    stranger = NoteSigner("other.test/log", Ed25519PrivateKey.generate())
    unknown = AddCheckpoint(
        0, (), sign_checkpoint(Checkpoint("other.test/log", 1, bytes(32)), [stranger])
    )
    assert_problem(http.post("/add-checkpoint", content=unknown.to_body().encode()), 404)
    assert_problem(
        http.post(
            "/add-checkpoint", content=AddCheckpoint(12, (), note(signer, 9)).to_body().encode()
        ),
        400,
    )
    assert_problem(http.post("/add-checkpoint", content=b"old 9\n"), 400)
    assert_problem(http.post("/add-checkpoint", content=b"\xff\xfe"), 400)
