"""The audit endpoints over HTTP on both backends: what they serve verifies against the
checkpoint they serve (RFC 9162, C2SP), and every refusal is a problem document."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.leaf import encode
from audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.note import NoteVerifier, parse_verifier_key
from gateway.audit_log.repository import checkpoint_notes
from gateway.audit_log.service import MAX_LEAVES_PAGE, AuditLog
from gateway.settings import Settings
from gateway.storage.db import make_engine
from tests.gateway.audit.factories import entry
from tests.gateway.factories import access_token, demo_credentials
from tests.gateway.test_problems import assert_problem

SIZES = (3, 8, 13)


@pytest.fixture
def events(client: TestClient) -> list[bytes]:
    """13 entries, with checkpoints signed at sizes 3, 8 and 13."""
    audit_log: AuditLog = client.app.state.audit_log  # type: ignore[attr-defined]
    leaves = []
    for number in range(SIZES[-1]):
        event, openings = entry(number)
        audit_log.append(event, openings)
        leaves.append(encode(event))
        if number + 1 in SIZES:
            audit_log.publish_now()
    return leaves


def verifier(client: TestClient) -> NoteVerifier:
    response = client.get("/v1/audit/verifier-key")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse_verifier_key(response.text)


def served_checkpoint(client: TestClient) -> Checkpoint:
    response = client.get("/v1/audit/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    key = verifier(client)
    return open_checkpoint(response.text, [key], key.name)


def hashes(response: Any) -> list[bytes]:
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"hashes"}
    return [base64.b64decode(h, validate=True) for h in response.json()["hashes"]]


def test_verifier_key_names_the_log_origin(client: TestClient, migrated: Settings) -> None:
    key = verifier(client)
    assert key.name == migrated.log_origin
    assert client.get("/v1/audit/verifier-key").text == key.vkey


def test_every_inclusion_proof_verifies_against_the_served_checkpoint(
    client: TestClient, events: list[bytes]
) -> None:
    head = served_checkpoint(client)
    assert head.size == len(events)
    for index, leaf in enumerate(events):
        params = {"index": index, "tree_size": head.size}
        proof = hashes(client.get("/v1/audit/proofs/inclusion", params=params))
        verify_inclusion(leaf_hash(leaf), index, head.size, proof, head.root)


def test_consistency_proofs_link_every_earlier_checkpoint(
    client: TestClient, events: list[bytes], migrated: Settings
) -> None:
    head = served_checkpoint(client)
    engine = make_engine(migrated.resolved_database_url)
    with engine.connect() as connection:
        notes = checkpoint_notes(connection)
    engine.dispose()
    key = verifier(client)
    earlier = [open_checkpoint(note, [key], key.name) for note in notes]
    assert [c.size for c in earlier][-3:] == list(SIZES)
    for old in earlier:
        params = {"from_size": old.size, "to_size": head.size}
        proof = hashes(client.get("/v1/audit/proofs/consistency", params=params))
        verify_consistency(old.size, head.size, proof, old.root, head.root)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/audit/proofs/inclusion", {"index": 13, "tree_size": 13}),
        ("/v1/audit/proofs/inclusion", {"index": 0, "tree_size": 14}),
        ("/v1/audit/proofs/inclusion", {"index": -1, "tree_size": 5}),
        ("/v1/audit/proofs/inclusion", {"index": "x", "tree_size": 5}),
        ("/v1/audit/proofs/consistency", {"from_size": 9, "to_size": 8}),
        ("/v1/audit/proofs/consistency", {"from_size": 1, "to_size": 14}),
        ("/v1/audit/proofs/consistency", {"from_size": 1}),
    ],
)
def test_impossible_proof_requests_are_422_problems(
    client: TestClient, events: list[bytes], path: str, params: dict[str, object]
) -> None:
    assert_problem(client.get(path, params=params), 422)


def test_leaves_are_served_to_regulators_only(
    client: TestClient, events: list[bytes], migrated: Settings
) -> None:
    credentials = demo_credentials(migrated)
    params = {"start": 2, "end": 13}
    assert_problem(client.get("/v1/audit/leaves", params=params), 401)
    bank = access_token(client, credentials["establishment"])
    denied = client.get("/v1/audit/leaves", params=params, headers=_bearer(bank))
    assert_problem(denied, 403)
    regulator = _bearer(access_token(client, credentials["regulator"], scope="audit:read"))
    response = client.get("/v1/audit/leaves", params=params, headers=regulator)
    assert response.status_code == 200
    assert [base64.b64decode(leaf) for leaf in response.json()["leaves"]] == events[2:13]
    for bad in (
        {"start": 0, "end": 14},
        {"start": 5, "end": 5},
        {"start": 0, "end": 1 + MAX_LEAVES_PAGE},
    ):
        assert_problem(client.get("/v1/audit/leaves", params=bad, headers=regulator), 422)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
