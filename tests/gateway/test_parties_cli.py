"""`gateway parties`: register, rotate keys, disable and list the registry's OAuth clients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from audit.leaf import AuditEvent, EventKind, decode
from consent.keys import public_jwk
from gateway.app import create_app
from gateway.audit_log.repository import log_size, read_leaves
from gateway.cli import app
from gateway.demo import LEGAL_PERSONS, private_jwk
from gateway.oauth.repository import SqlClientDirectory
from gateway.settings import Settings
from gateway.storage.db import make_engine, unit_of_work
from tests.gateway.factories import access_token, demo_credentials
from tests.gateway.test_problems import assert_problem

runner = CliRunner()


@pytest.fixture
def registry(migrated: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(migrated.var_dir))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", migrated.resolved_database_url)
    return migrated


def _jwk_file(directory: Path, *, private: bool = False) -> tuple[Path, str]:
    key = Ed25519PrivateKey.generate()
    jwk = private_jwk(key) if private else public_jwk(key.public_key())
    path = directory / f"{jwk['kid'][:8]}.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return path, jwk["kid"]


def _kids(settings: Settings, client_id: str) -> list[str] | None:
    engine = make_engine(settings.resolved_database_url)
    with unit_of_work(engine) as session:
        client = SqlClientDirectory(session).client(client_id)
    engine.dispose()
    return None if client is None else [str(key["kid"]) for key in client.jwks]


def _register(path: Path, *extra: str) -> list[str]:
    return [
        "parties",
        "register",
        "--role",
        "establishment",
        "--name",
        "Lakeside Lending Co.",
        "--client-id",
        "lakeside-lending",
        "--jwk-file",
        str(path),
        *extra,
    ]


def test_register_rotate_disable_and_list(registry: Settings, tmp_path: Path) -> None:
    first, first_kid = _jwk_file(tmp_path)
    extra = ["--credit-code", LEGAL_PERSONS[0], "--webhook-url", "https://lakeside.example/hook"]
    result = runner.invoke(app, _register(first, *extra))
    assert result.exit_code == 0, result.output
    assert _kids(registry, "lakeside-lending") == [first_kid]

    second, second_kid = _jwk_file(tmp_path)
    assert (
        runner.invoke(
            app, ["parties", "rotate-key", "lakeside-lending", "--jwk-file", str(second)]
        ).exit_code
        == 0
    )
    assert _kids(registry, "lakeside-lending") == [first_kid, second_kid]
    third, third_kid = _jwk_file(tmp_path)
    rotated = runner.invoke(
        app, ["parties", "rotate-key", "lakeside-lending", "--jwk-file", str(third), "--retire-old"]
    )
    assert rotated.exit_code == 0
    assert _kids(registry, "lakeside-lending") == [third_kid]

    assert runner.invoke(app, ["parties", "disable", "lakeside-lending"]).exit_code == 0
    assert _kids(registry, "lakeside-lending") is None
    listed = runner.invoke(app, ["parties", "list"])
    (line,) = [line for line in listed.stdout.splitlines() if "lakeside-lending" in line]
    assert "disabled" in line and third_kid in line
    assert [(e.requester, e.reason_code, e.purpose) for e in _registry_changes(registry)] == [
        ("operator", "party_registered", "lakeside-lending"),
        ("operator", "party_keys_rotated", "lakeside-lending"),
        ("operator", "party_keys_rotated", "lakeside-lending"),
        ("operator", "party_disabled", "lakeside-lending"),
    ]


def _registry_changes(settings: Settings) -> list[AuditEvent]:
    """The ``registry_change`` leaves of the log, in order."""
    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as connection:
        events = [decode(leaf) for leaf in read_leaves(connection, 0, log_size(connection))]
    engine.dispose()
    return [event for event in events if event.kind is EventKind.REGISTRY_CHANGE]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--credit-code", LEGAL_PERSONS[0][:17] + "0"], "check character"),  # it is 9
        (["--webhook-url", "ftp://lakeside.example/hook"], "webhook URL"),
    ],
)
def test_invalid_registrations_are_refused(
    registry: Settings, tmp_path: Path, extra: list[str], message: str
) -> None:
    path, _ = _jwk_file(tmp_path)
    result = runner.invoke(app, _register(path, *extra))
    assert result.exit_code == 2 and message in result.stderr
    assert _kids(registry, "lakeside-lending") is None
    assert _registry_changes(registry) == []


def test_a_private_key_or_a_second_registration_is_refused(
    registry: Settings, tmp_path: Path
) -> None:
    private, _ = _jwk_file(tmp_path, private=True)
    refused = runner.invoke(app, _register(private))
    assert refused.exit_code == 2 and "public key only" in refused.stderr
    public, _ = _jwk_file(tmp_path)
    assert runner.invoke(app, _register(public)).exit_code == 0
    again = runner.invoke(app, _register(public))
    assert again.exit_code == 2 and "already registered" in again.stderr


def test_a_party_registered_dpop_required_must_bind_its_tokens(
    registry: Settings, tmp_path: Path
) -> None:
    path, _ = _jwk_file(tmp_path)
    result = runner.invoke(app, _register(path, "--dpop-required"))
    assert result.exit_code == 0, result.output
    assert "dpop-required" in result.output
    engine = make_engine(registry.resolved_database_url)
    with unit_of_work(engine) as session:
        client = SqlClientDirectory(session).client("lakeside-lending")
    engine.dispose()
    assert client is not None
    assert client.dpop_bound_access_tokens


@pytest.mark.parametrize("label", ["citizen", "public"])
def test_the_audit_logs_requester_labels_are_no_client_id(
    registry: Settings, tmp_path: Path, label: str
) -> None:
    """A party named ``citizen`` would label a citizen's own entries in their access log."""
    path, _ = _jwk_file(tmp_path)
    arguments = _register(path)
    arguments[arguments.index("lakeside-lending")] = label
    refused = runner.invoke(app, arguments)
    assert refused.exit_code == 2 and "label of the audit log" in refused.stderr
    assert _kids(registry, label) is None


def test_one_party_per_credit_code(registry: Settings, tmp_path: Path) -> None:
    path, _ = _jwk_file(tmp_path)
    code = ["--credit-code", LEGAL_PERSONS[0]]
    assert runner.invoke(app, _register(path, *code)).exit_code == 0
    copy = _register(_jwk_file(tmp_path)[0], *code)
    copy[copy.index("lakeside-lending")] = "lakeside-lending-2"
    refused = runner.invoke(app, copy)
    assert refused.exit_code == 2 and "credit code is already registered" in refused.stderr
    assert _kids(registry, "lakeside-lending-2") is None
    without_code = _register(_jwk_file(tmp_path)[0])
    without_code[without_code.index("lakeside-lending")] = "lakeside-lending-3"
    assert runner.invoke(app, without_code).exit_code == 0  # no code: as many as needed


def test_a_disabled_partys_live_tokens_are_refused_at_once(registry: Settings) -> None:
    credentials = demo_credentials(registry)
    with TestClient(create_app(registry)) as client:
        bank = {"authorization": f"Bearer {access_token(client, credentials['establishment'])}"}
        assert client.get("/v1/webhook-deliveries", headers=bank).status_code == 200
        client_id = credentials["establishment"]["client_id"]
        assert runner.invoke(app, ["parties", "disable", client_id]).exit_code == 0
        for path in ("/v1/webhook-deliveries", "/v1/deletion-notices", "/v1/consents/cg_1"):
            refused = client.get(path, headers=bank)
            assert assert_problem(refused, 401)["error"] == "invalid_token"
