"""The `gateway` command as a new user meets it: migrate, seed the demo, publish the spec."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from audit.leaf import EventKind, Outcome, decode
from gateway.audit_log.repository import log_size, read_leaves
from gateway.cli import app, available_cores, more_workers_than_cores
from gateway.console.repository import officer_by_username
from gateway.demo import LEGAL_PERSONS, NATURAL_PERSONS
from gateway.storage import migrate
from gateway.storage.db import make_engine, unit_of_work
from redaction.identifiers import validate_credit_code, validate_id_number

runner = CliRunner()
ROLES = ("establishment", "agency", "provider", "regulator")


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", database_url)
    return tmp_path / "var"


def test_demo_refuses_an_unmigrated_database_in_one_line(env: Path) -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 2
    heads = migrate.head_revisions(os.environ["GATEWAY_DATABASE_URL"])
    assert result.stderr.strip().splitlines() == [
        f"error: database schema is at no revision, the code needs {heads}: "
        "run `gateway db upgrade` first"
    ]


def test_serve_refuses_an_unmigrated_database(env: Path) -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "run `gateway db upgrade` first" in result.stderr


def test_serve_warns_when_it_starts_more_workers_than_cores(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn itself is not started: what it is asked for is recorded."""
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    asked: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_, **options: asked.append(options["workers"]))
    cores = available_cores()
    enough = runner.invoke(app, ["serve", "--workers", str(cores)])
    assert enough.exit_code == 0, enough.output
    assert enough.stderr == ""
    more = runner.invoke(app, ["serve", "--workers", str(cores + 1)])
    assert more.exit_code == 0, more.output
    assert more.stderr.strip() == f"warning: {more_workers_than_cores(cores + 1, cores)}"
    assert asked == [cores, cores + 1]


def test_more_workers_than_cores_are_named_with_the_most_to_set() -> None:
    assert more_workers_than_cores(1, 2) is None
    assert more_workers_than_cores(2, 2) is None
    assert more_workers_than_cores(4, 2) == (
        "4 worker processes on 2 cores: more workers than cores serve fewer inquiries a second, "
        'not more (README, "The inquiry benchmark"); set GATEWAY_WORKERS to at most 2'
    )


def test_demo_is_idempotent_and_writes_every_role(env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "http://127.0.0.1:8000/docs" in first.stdout
    path = env / "demo" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    credentials = json.loads(path.read_text())
    for role in ROLES:
        jwk = credentials[role]["private_jwk"]
        assert credentials[role]["client_id"] and jwk["kty"] == "OKP" and jwk["d"]
    assert credentials["agency"]["legal_bases"]
    assert set(credentials["citizen"]) == {"username", "password", "id_number", "totp_secret"}
    assert f"TOTP secret {credentials['citizen']['totp_secret']}" in first.stdout
    officer = credentials["regulator_officer"]
    assert set(officer) == {"username", "password", "totp_secret"}
    assert officer["username"] in first.stdout
    assert credentials["subjects"] == {
        "natural_persons": list(NATURAL_PERSONS),
        "legal_persons": list(LEGAL_PERSONS),
    }
    for number in NATURAL_PERSONS:
        assert validate_id_number(number, on=date.today()) == number
    for code in LEGAL_PERSONS:
        assert validate_credit_code(code) == code

    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0, second.output
    assert json.loads(path.read_text()) == credentials


def test_demo_replaces_keys_whose_private_half_was_lost(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    runner.invoke(app, ["demo"])
    path = env / "demo" / "credentials.json"
    before = json.loads(path.read_text())
    path.unlink()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    after = json.loads(path.read_text())
    for role in ROLES:
        assert after[role]["client_id"] == before[role]["client_id"]
        assert after[role]["private_jwk"]["kid"] != before[role]["private_jwk"]["kid"]
    assert after["citizen"]["password"] != before["citizen"]["password"]


def test_officers_add_enrols_an_officer_once_and_prints_the_secret_once(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    added = runner.invoke(app, ["officers", "add", "wang.fang"], input="s3cret-pass\ns3cret-pass\n")
    assert added.exit_code == 0, added.output
    secret = re.search(r"TOTP secret  ([A-Z2-7]{32})", added.stdout)
    assert secret is not None
    assert f"otpauth://totp/Credit%20gateway%20oversight:wang.fang?secret={secret[1]}" in (
        added.stdout
    )
    engine = make_engine(os.environ["GATEWAY_DATABASE_URL"])
    with unit_of_work(engine) as session:
        stored = officer_by_username(session, "wang.fang")
        assert stored is not None and stored.totp_secret == secret[1]
        assert "s3cret-pass" not in stored.password_hash
    engine.dispose()
    again = runner.invoke(app, ["officers", "add", "wang.fang", "--generate-password"])
    assert again.exit_code == 2
    assert "an officer 'wang.fang' exists" in again.stderr
    generated = runner.invoke(app, ["officers", "add", "li.na", "--generate-password"])
    assert generated.exit_code == 0, generated.output
    assert re.search(r"password     \S{16,}", generated.stdout)


def test_openapi_command_writes_the_served_document(env: Path) -> None:
    result = runner.invoke(app, ["openapi", "--output", str(env / "spec.json")])
    assert result.exit_code == 0
    document = json.loads((env / "spec.json").read_text())
    assert document["info"]["title"] == "Credit-inquiry consent gateway"
    assert "/readyz" in document["paths"]


def test_the_operator_resets_a_citizens_factors_and_it_is_logged(env: Path) -> None:
    """Recovery is the operator's alone, and an audit leaf (Art. 61(2), 61(3)); the demo then
    seeds the demo citizen a new TOTP secret."""
    runner.invoke(app, ["db", "upgrade"])
    runner.invoke(app, ["demo"])
    path = env / "demo" / "credentials.json"
    before = json.loads(path.read_text())["citizen"]["totp_secret"]

    reset = runner.invoke(app, ["factors", "reset", "zhang.wei"])
    assert reset.exit_code == 0, reset.output
    assert "removed 1 second factors of zhang.wei" in reset.stdout
    engine = make_engine(os.environ["GATEWAY_DATABASE_URL"])
    with engine.connect() as connection:
        events = [decode(leaf) for leaf in read_leaves(connection, 0, log_size(connection))]
    engine.dispose()
    resets = [e for e in events if e.kind is EventKind.FACTOR_CHANGE]
    assert [(e.requester, e.reason_code, e.outcome) for e in resets] == [
        ("operator", "reset", Outcome.ALLOWED)
    ]

    unknown = runner.invoke(app, ["factors", "reset", "nobody"])
    assert unknown.exit_code == 2
    assert "no citizen account" in unknown.stderr

    runner.invoke(app, ["demo"])
    assert json.loads(path.read_text())["citizen"]["totp_secret"] != before
