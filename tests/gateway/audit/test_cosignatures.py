"""Witness cosignatures: submitted to the gateway, served with its checkpoint, required by
verifiers (C2SP tlog-cosignature/v1), on both backends."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.note import Cosigner, NoteSigner, cosign, split_note, verify_cosignature
from gateway.app import create_app
from gateway.audit_log.service import AuditLog
from gateway.cli import app as cli
from gateway.keys import load_keys
from gateway.settings import Settings
from tests.gateway.audit.factories import append_entries
from tests.gateway.audit.test_cli import regulator_token
from tests.gateway.audit.witnesses import running_witness
from tests.gateway.test_problems import assert_problem
from tests.live import serve

runner = CliRunner()
NOW = 1_800_000_000


@pytest.fixture
def witness() -> Cosigner:
    return Cosigner("w1.test", Ed25519PrivateKey.generate())


@pytest.fixture
def witnessed(migrated: Settings, witness: Cosigner) -> Settings:
    """The test database and keys, with ``witness`` as the one witness the gateway accepts."""
    return Settings(
        var_dir=migrated.var_dir,
        database_url=migrated.resolved_database_url,
        audit_witness_keys=[witness.verifier().vkey],
        _env_file=None,
    )


@pytest.fixture
def gateway(witnessed: Settings) -> FastAPI:
    return create_app(witnessed)


@pytest.fixture
def http(gateway: FastAPI) -> Iterator[TestClient]:
    with TestClient(gateway) as test_client:
        yield test_client


def grow(gateway: FastAPI, count: int, first: int) -> str:
    """Append ``count`` entries, sign a checkpoint of them, return the signed note."""
    audit_log: AuditLog = gateway.state.audit_log
    append_entries(audit_log, count, first=first)
    return audit_log.publish_now()


def log_signer(settings: Settings) -> NoteSigner:
    return NoteSigner(settings.log_origin, load_keys(settings).log)


def submit(http: TestClient, note: str) -> httpx.Response:
    headers = {"content-type": "text/plain"}
    response: httpx.Response = http.post("/v1/audit/cosignatures", content=note, headers=headers)
    return response


def refusal(response: httpx.Response) -> str:
    """The detail of a 422 problem."""
    detail = assert_problem(response, 422)["detail"]
    assert isinstance(detail, str)
    return detail


def test_a_valid_cosignature_is_stored_once_and_served_with_the_checkpoint(
    http: TestClient, witness: Cosigner
) -> None:
    note = grow(http.app, 5, first=0)  # type: ignore[arg-type]
    cosigned = cosign(note, witness, NOW)
    accepted = submit(http, cosigned)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"witnesses": [witness.verifier().vkey]}
    assert submit(http, cosign(note, witness, NOW + 60)).status_code == 200

    served = http.get("/v1/audit/checkpoint")
    assert served.status_code == 200
    assert served.text == cosigned  # the log's line, then the first cosignature, once
    assert verify_cosignature(served.text, witness.verifier()) == NOW


def test_refusals_are_422_problems(
    http: TestClient, witness: Cosigner, witnessed: Settings
) -> None:
    note = grow(http.app, 5, first=0)  # type: ignore[arg-type]
    stranger = Cosigner("w1.test", Ed25519PrivateKey.generate())
    assert "no witness this gateway accepts" in refusal(submit(http, cosign(note, stranger, NOW)))

    cosigned = cosign(note, witness, NOW)
    text, signatures = split_note(cosigned)
    name, key_id, signature = signatures[-1]
    flipped = key_id + signature[:-1] + bytes([signature[-1] ^ 1])
    forged = (
        cosigned.rsplit("\u2014 ", 1)[0] + f"\u2014 {name} {base64.b64encode(flipped).decode()}\n"
    )
    assert split_note(forged)[0] == text
    assert_problem(submit(http, forged), 422)

    signer = log_signer(witnessed)
    unknown = sign_checkpoint(Checkpoint(witnessed.log_origin, 99, bytes(32)), [signer])
    assert "no such checkpoint" in refusal(submit(http, cosign(unknown, witness, NOW)))
    rewritten = sign_checkpoint(Checkpoint(witnessed.log_origin, 5, bytes(32)), [signer])
    assert_problem(submit(http, cosign(rewritten, witness, NOW)), 422)
    assert_problem(submit(http, "not a note"), 422)
    assert http.get("/v1/audit/checkpoint").text == note  # nothing was stored


def verify(url: str, settings: Settings, where: Path, *required: str) -> Result:
    key = log_signer(settings).verifier().vkey
    command = ["audit", "verify", "--url", url, "--token", regulator_token(url, settings)]
    command += ["--key", key, "--state", str(where / "verifier.json")]
    for vkey in required:
        command += ["--require-witness", vkey]
    return runner.invoke(cli, command)


def test_the_witness_cosigns_through_the_protocol_and_the_verifier_requires_it(
    migrated: Settings, tmp_path: Path
) -> None:
    log_key = log_signer(migrated).verifier().vkey
    with running_witness(tmp_path / "w1", "w1.test", log_key) as witness:
        settings = Settings(
            var_dir=migrated.var_dir,
            database_url=migrated.resolved_database_url,
            audit_witness_urls={witness.vkey: witness.url},
            _env_file=None,
        )
        gateway = create_app(settings)
        with serve(gateway) as url:
            audit_log: AuditLog = gateway.state.audit_log
            grow(gateway, 7, first=0)
            assert audit_log.collect_cosignatures() == [witness.vkey]
            served = httpx.get(f"{url}/v1/audit/checkpoint").text
            verify_cosignature(served, witness.cosigner.verifier())

            verified = verify(url, settings, tmp_path, witness.vkey)
            assert verified.exit_code == 0, verified.output
            assert f"cosigned by     {witness.vkey}" in verified.stdout

            other = Cosigner("w2.test", Ed25519PrivateKey.generate()).verifier().vkey
            missing = verify(url, settings, tmp_path, witness.vkey, other)
    assert missing.exit_code == 1
    assert "verification FAILED" in missing.stderr
    assert "no valid cosignature by the required witness w2.test" in missing.stderr


def test_verify_requiring_a_witness_fails_when_nobody_cosigned(
    gateway: FastAPI, witnessed: Settings, witness: Cosigner, tmp_path: Path
) -> None:
    with serve(gateway) as url:
        grow(gateway, 4, first=0)
        assert verify(url, witnessed, tmp_path).exit_code == 0
        grow(gateway, 3, first=4)
        refused = verify(url, witnessed, tmp_path, witness.verifier().vkey)
    assert refused.exit_code == 1
    assert "checkpoint of size 7 carries no valid cosignature" in refused.stderr
