"""The scheduler: a lease per job keeps several processes from running one at once; the app's
thread runs every job each interval; `gateway jobs run-once` runs them by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.cli import app as cli
from gateway.rights.models import JobLease
from gateway.rights.repository import claim_lease
from gateway.rights.scheduler import JOBS, RUN_ONCE_HOLD, run_job
from gateway.settings import Settings
from gateway.storage.db import unit_of_work
from tests.gateway.rights.factories import Rights


def claim(rights: Rights, name: str, holder: str, at: datetime) -> bool:
    with unit_of_work(rights.engine) as session:
        return claim_lease(session, name, holder, at, at + timedelta(minutes=1))


def test_a_lease_is_held_by_one_process_until_it_lapses(rights: Rights) -> None:
    now = datetime.now(UTC)
    assert claim(rights, "test-lease", "process-a", now)
    assert not claim(rights, "test-lease", "process-b", now + timedelta(seconds=30))
    assert claim(rights, "test-lease", "process-a", now + timedelta(seconds=30))  # renewed
    assert not claim(rights, "test-lease", "process-b", now + timedelta(seconds=89))
    assert claim(rights, "test-lease", "process-b", now + timedelta(seconds=91))  # lapsed


def test_a_job_another_process_holds_is_skipped_and_run_once_releases(rights: Rights) -> None:
    assert claim(rights, "deadlines", "another-process", datetime.now(UTC))
    assert rights.run("deadlines") == {"deadlines": None}
    with unit_of_work(rights.engine) as session:
        session.get_one(JobLease, "deadlines").expires_at = datetime.now(UTC)
    assert rights.run("deadlines", "consent-expiry") == {"deadlines": 0, "consent-expiry": 0}
    assert rights.run("deadlines") == {"deadlines": 0}  # released: runs again at once
    jobs = rights.jobs()
    assert run_job(jobs, "deadlines", "holder", RUN_ONCE_HOLD) == 0
    assert run_job(jobs, "deadlines", "other", RUN_ONCE_HOLD) is None  # held until it lapses


def test_the_apps_thread_runs_every_job_each_interval(migrated: Settings) -> None:
    settings = migrated.model_copy(update={"scheduler_interval": 0.05})
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 10
        while _leases(client) != set(JOBS) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _leases(client) == set(JOBS)


def _leases(client: TestClient) -> set[str]:
    with unit_of_work(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return set(session.exec(select(JobLease.name)))


@pytest.fixture
def env(migrated: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(migrated.var_dir))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", migrated.resolved_database_url)


@pytest.mark.usefixtures("env")
def test_run_once_runs_every_job_by_hand() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["jobs", "run-once"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{name}: 0" for name in JOBS]
    one = runner.invoke(cli, ["jobs", "run-once", "--job", "deadlines"])
    assert one.stdout.splitlines() == ["deadlines: 0"]
    unknown = runner.invoke(cli, ["jobs", "run-once", "--job", "nothing"])
    assert unknown.exit_code == 2 and "unknown job nothing" in unknown.stderr
