"""``gateway audit`` as a regulator and a witness use it: against a live gateway and offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner, Result

from audit.note import NoteSigner
from gateway.cli import app
from gateway.keys import load_keys
from gateway.settings import Settings
from tests.gateway.audit.factories import append_entries, audit_log_of
from tests.gateway.factories import assertion_form, demo_credentials
from tests.live import free_port

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]


def log_signer(settings: Settings) -> NoteSigner:
    return NoteSigner(settings.log_origin, load_keys(settings).log)


def grow(settings: Settings, count: int, first: int) -> None:
    """Append ``count`` entries from this process and sign a checkpoint of them."""
    with audit_log_of(settings) as audit_log:
        append_entries(audit_log, count, first=first)
        audit_log.publish_now()


@pytest.fixture
def live(migrated: Settings, tmp_path: Path) -> Iterator[str]:
    """A real gateway process (uvicorn) on a free port, with a 7-entry log."""
    grow(migrated, 7, first=0)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "GATEWAY_VAR_DIR": str(migrated.var_dir),
        "GATEWAY_DATABASE_URL": migrated.resolved_database_url,
    }
    command = [sys.executable, "-m", "uvicorn", "gateway.asgi:app", "--port", str(port)]
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        _wait_until_serving(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_serving(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert server.poll() is None, "the gateway exited"
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("the gateway did not start")


def regulator_token(url: str, settings: Settings) -> str:
    form = {"grant_type": "client_credentials", "scope": "audit:read"}
    form |= assertion_form(demo_credentials(settings)["regulator"])
    response = httpx.post(f"{url}/oauth/token", data=form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def cli_env(migrated: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(migrated.var_dir))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", migrated.resolved_database_url)
    return migrated


def test_verify_over_http_pins_the_key_and_remembers_what_it_saw(
    live: str, cli_env: Settings
) -> None:
    token = regulator_token(live, cli_env)
    verify = ["audit", "verify", "--url", live, "--token", token, "--state", "seen.json"]
    first = runner.invoke(app, verify)
    assert first.exit_code == 0, first.output
    assert "trusting the log's own key on first use" in first.stderr
    assert "leaves          7" in first.stdout
    state = json.loads(Path("seen.json").read_text())
    assert state["verifier_key"] == log_signer(cli_env).verifier().vkey

    grow(cli_env, 5, first=7)
    second = runner.invoke(app, verify)
    assert second.exit_code == 0, second.output
    assert "first use" not in second.stderr
    assert "leaves          12" in second.stdout
    assert "checkpoints     2 signed, consistent" in second.stdout

    stranger = NoteSigner(cli_env.log_origin, Ed25519PrivateKey.generate()).verifier().vkey
    wrong = runner.invoke(app, [*verify[:-2], "--state", "other.json", "--key", stranger])
    assert wrong.exit_code == 1
    assert "verification FAILED" in wrong.stderr and "no trusted key" in wrong.stderr
    without_token = runner.invoke(app, ["audit", "verify", "--url", live], env={})
    assert without_token.exit_code == 2


def test_a_rolled_back_export_fails_against_the_state(cli_env: Settings) -> None:
    key = log_signer(cli_env).verifier().vkey
    grow(cli_env, 4, first=0)
    assert runner.invoke(app, ["audit", "export", "--output", "old.jsonl"]).exit_code == 0
    grow(cli_env, 4, first=4)
    assert runner.invoke(app, ["audit", "export", "--output", "new.jsonl"]).exit_code == 0

    def verify(export: str) -> Result:
        arguments = ["audit", "verify", "--export", export, "--key", key, "--workers", "2"]
        return runner.invoke(app, arguments)

    assert runner.invoke(app, ["audit", "verify", "--export", "old.jsonl"]).exit_code == 2
    for export in ("old.jsonl", "new.jsonl"):
        result = verify(export)
        assert result.exit_code == 0, result.output
    rolled_back = verify("old.jsonl")
    assert rolled_back.exit_code == 1
    assert "of size 8 seen before is not among the log's checkpoints" in rolled_back.stderr
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 2
    assert runner.invoke(app, ["audit", "verify", "--local", "--workers", "2"]).exit_code == 2
