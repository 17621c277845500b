"""Short versions of the proof runs (``make soak``, ``make crash``, ``make scaleout``), each
against real ``gateway serve`` processes fed by the load process of :mod:`bench.load`: the
same code, seconds instead of minutes. Each run checks its own invariants
(:mod:`bench.invariants`) and verifies the log as a regulator would; a test asserts that the
run passed and that it really exercised what it claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash import crash
from bench.invariants import failures_in, secrets_in
from bench.scaleout import SPENT_USES, idle_workers, scaleout
from bench.soak import soak
from tests.gateway.inquiries.factories import World
from tests.services import postgres_schema, redis_url

INQUIRY_CHANNELS = {"authorized", "sharing", "authority", "self", "public"}


def test_soak_mixed_traffic_without_a_single_error(tmp_path: Path, database_url: str) -> None:
    report = soak(tmp_path, duration=6, workers=4, database_url=database_url, at_least=150)
    assert report.passed, report.text()
    assert report.overall.count >= 150  # the work is fixed, not the rate: a busy machine is slower
    assert INQUIRY_CHANNELS | {"consent.revoke", "records.submit", "audit.proof"} <= set(
        report.operations
    )
    assert report.answers_checked > 20
    assert report.log.startswith("verified")


def test_kill_minus_nine_loses_no_answer_and_breaks_no_log(
    tmp_path: Path, database_url: str
) -> None:
    report = crash(tmp_path, rounds=3, up=(0.8, 1.5), workers=4, database_url=database_url)
    assert report.passed, report.text()
    assert all(crash_round.answered > 0 for crash_round in report.rounds), report.text()
    assert all(crash_round.log.startswith("verified") for crash_round in report.rounds)
    assert report.final_log.startswith("verified")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.parametrize("gateway_workers", [1, 2])
def test_two_processes_behave_as_one_gateway(tmp_path: Path, gateway_workers: int) -> None:
    """Two gateways on one PostgreSQL and one Redis; with ``gateway_workers`` 2, each serves
    with two uvicorn workers (``GATEWAY_WORKERS``), and every worker serves."""
    with postgres_schema() as database_url:
        report = scaleout(
            tmp_path,
            database_url=database_url,
            redis_url=redis_url(),
            duration=5,
            revocations=3,
            gateway_workers=gateway_workers,
        )
    assert report.passed, report.text()
    assert report.served_of_budget == report.budget
    assert report.inquiries_after_revocation > 0
    assert report.served_after_revocation == 0
    assert report.spent_served == report.spent_uses == SPENT_USES
    assert report.token_refused_by_other
    assert report.replay_refused_by_other
    assert set(report.answers_by_process) == {"a", "b"}
    assert [len(seconds) for seconds in report.worker_cpu_seconds.values()] == [gateway_workers] * 2


def test_a_gateway_worker_that_served_nothing_fails_the_scale_out_run() -> None:
    assert idle_workers({"a": [1.4, 0.9], "b": [2.0, 0.6]}, 2) == []
    assert idle_workers({"a": [1.4, 0.9], "b": [2.0, 0.1]}, 2) == [
        "a worker of gateway b served (next to) nothing: [2.0, 0.1] s"
    ]
    assert idle_workers({"a": [1.4], "b": [2.0, 0.6]}, 2) == [
        "gateway a serves with 1 workers, not 2"
    ]


def test_the_output_scans_find_what_they_look_for(world: World) -> None:
    """The runs pass only if the scans of the servers' output find nothing: they must find."""
    credentials = world.flow.credentials
    token = world.headers("agency")["Authorization"].removeprefix("Bearer ")
    clean = "INFO:     Started server process [1]\nINFO:     Application startup complete."
    assert secrets_in(clean, credentials) == failures_in(clean) == []
    leaky = [
        f"INFO: token {token}",
        f"INFO: subject {credentials['citizen']['id_number']}",
        f"INFO: password {credentials['citizen']['password']}",
        f"DEBUG: key {credentials['provider']['private_jwk']['d']}",
    ]
    for line in leaky:
        assert secrets_in(line, credentials), line
    assert failures_in("ERROR:    Exception in ASGI application\nTraceback (most recent call")
