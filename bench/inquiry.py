"""Inquiry benchmark (Art. 39 para. 2-3): an authorized inquiry next to a bare FastAPI endpoint.

* ``inquiry.authorized.vs_bare`` — requests per second of ``POST /v1/inquiries/authorized``
  (token check, consent check, archive read, redaction, durable audit append, the use counted)
  as a fraction of a bare FastAPI endpoint's returning a JSON document of the same size; target
  >= 0.25, aim 0.5. Both run under uvicorn with the same worker count in the same run, on
  SQLite (the gateway as ``make run`` serves it): one worker per core, the production setting
  (``GATEWAY_WORKERS``), which is the figure held to the target; then, on a machine of several
  cores, both again with a single worker (``make run``'s default), printed under the table.
  The load comes from a separate process on 127.0.0.1: threads with keep-alive ``httpx``
  clients, the same number of requests and connections for both. The two are measured in
  alternation, several rounds, so that both meet the same load of the machine; the figure is
  the median of the rounds' ratios. Every round's figures, with p50 and p99 latency and the
  machine's load average, are printed under the table. The load process shares the
  machine's cores: when the bare endpoint answers about as fast with one worker as with
  several, the load process is what bounds it, and the single-worker ratio is the stricter
  comparison.

Set-up (not measured): the demo province and its archive are seeded, and the demo citizen
approves enough ``post_loan_management`` grants (12 uses each) for every inquiry, through the
consent API; each inquiry uses the next grant that has uses left.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from itertools import count
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bench import Context, Measurement, benchmark
from bench.passkey import SoftPasskey, StepUp
from gateway.app import create_app
from gateway.demo import client_assertion, read_credentials, seed_demo, seed_demo_archive
from gateway.settings import Settings
from gateway.storage import migrate

PAYLOAD_VARIABLE = "BENCH_BARE_PAYLOAD"
PURPOSE = "post_loan_management"
CATEGORIES = ["basic", "untrustworthy"]
USES_PER_GRANT = 12
BARE_PORT, GATEWAY_PORT = 8711, 8712


@dataclass(frozen=True)
class Sizes:
    """Per round: ``warmup`` requests, then ``requests`` measured, over ``connections``."""

    requests: int
    warmup: int
    connections: int
    rounds: int

    @property
    def per_round(self) -> int:
        return self.warmup + self.requests


FULL = Sizes(requests=3000, warmup=300, connections=16, rounds=3)
QUICK = Sizes(requests=1200, warmup=100, connections=16, rounds=1)


@dataclass(frozen=True)
class Load:
    """What the load process sends: ``bodies[i]`` is request i (``None``: no body)."""

    url: str
    headers: dict[str, str]
    bodies: list[str | None]
    warmup: int
    connections: int


@dataclass(frozen=True)
class Measured:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass(frozen=True)
class Round:
    """One round: the gateway, the bare endpoint right before it, the load average after."""

    ours: Measured
    bare: Measured
    load_average: float

    @property
    def ratio(self) -> float:
        return self.ours.requests_per_second / self.bare.requests_per_second


# -- the two servers -----------------------------------------------------------------------


def bare_app() -> FastAPI:
    """The baseline: FastAPI with one sync route returning a prepared JSON document."""
    payload = json.loads(Path(os.environ[PAYLOAD_VARIABLE]).read_text())
    app = FastAPI()

    @app.post("/bare")
    def bare() -> dict[str, Any]:
        return payload  # type: ignore[no-any-return]

    return app


def serve(
    target: str, port: int, workers: int, environment: dict[str, str]
) -> subprocess.Popen[bytes]:
    """uvicorn serving ``target`` (an app factory) with the gateway's server options."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env={**os.environ, **environment})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"{target} did not start on port {port}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


# -- the load process ----------------------------------------------------------------------


def run_load(load: Load, scratch: Path) -> Measured:
    """Run the load in a separate process and read what it measured."""
    plan = scratch / "load.json"
    plan.write_text(json.dumps(asdict(load)))
    output = subprocess.run(
        [sys.executable, "-m", "bench.inquiry", str(plan)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Measured(**json.loads(output))


def _drive(load: Load) -> Measured:
    """Send the warm-up, then the measured requests, from ``connections`` threads."""
    headers = {**load.headers, "Content-Type": "application/json"}
    clients = [httpx.Client(headers=headers, timeout=60) for _ in range(load.connections)]
    _send_all(clients, load.url, load.bodies[: load.warmup])
    started = time.perf_counter()
    latencies, errors = _send_all(clients, load.url, load.bodies[load.warmup :])
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    latencies.sort()
    return Measured(
        requests_per_second=len(latencies) / elapsed,
        p50_ms=latencies[len(latencies) // 2] * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        errors=errors,
    )


def _send_all(
    clients: list[httpx.Client], url: str, bodies: list[str | None]
) -> tuple[list[float], int]:
    latencies = [0.0] * len(bodies)
    failed = [False] * len(bodies)
    numbers = count()
    lock = threading.Lock()

    def work(client: httpx.Client) -> None:
        while True:
            with lock:
                index = next(numbers)
            if index >= len(bodies):
                return
            started = time.perf_counter()
            response = client.post(url, content=bodies[index])
            latencies[index] = time.perf_counter() - started
            failed[index] = response.status_code != 200

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, sum(failed)


# -- set-up --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Province:
    settings: Settings
    environment: dict[str, str]
    credentials: dict[str, Any]
    grants: list[str]
    answer: dict[str, Any]


def seeded_province(scratch: Path, inquiries: int) -> Province:
    """The demo province with enough grants for ``inquiries``, and one inquiry's answer."""
    environment = {
        "GATEWAY_VAR_DIR": str(scratch / "var"),
        "GATEWAY_DATABASE_URL": f"sqlite:///{scratch / 'gateway.db'}",
        "GATEWAY_BASE_URL": f"http://127.0.0.1:{GATEWAY_PORT}",
        "GATEWAY_RATE_LIMIT_DEFAULT": "100000000/minute",
        "GATEWAY_RATE_LIMIT_SIGN_IN": "100000000/minute",
    }
    settings = Settings(
        var_dir=Path(environment["GATEWAY_VAR_DIR"]),
        database_url=environment["GATEWAY_DATABASE_URL"],
        base_url=environment["GATEWAY_BASE_URL"],
        rate_limit_default=environment["GATEWAY_RATE_LIMIT_DEFAULT"],
        rate_limit_sign_in=environment["GATEWAY_RATE_LIMIT_SIGN_IN"],
        _env_file=None,
    )
    migrate.upgrade(settings.resolved_database_url)
    seed_demo(settings)
    seed_demo_archive(settings)
    credentials = read_credentials(settings.var_dir / "demo" / "credentials.json")
    app = create_app(settings)
    with TestClient(app, base_url=settings.base_url) as client:
        consent = _ConsentDesk(client, credentials)
        grants = [consent.grant() for _ in range(math.ceil(inquiries / USES_PER_GRANT) + 1)]
        answer = client.post(
            "/v1/inquiries/authorized",
            json=inquiry(credentials, grants.pop()),
            headers=consent.bank,
        ).json()
    app.state.engine.dispose()
    return Province(settings, environment, credentials, grants, answer)


@dataclass
class _ConsentDesk:
    """The demo establishment asks, the demo citizen approves, over the consent API."""

    client: TestClient
    credentials: dict[str, Any]

    def __post_init__(self) -> None:
        self.bank = {"Authorization": f"Bearer {bearer(self.client, self.credentials)}"}
        citizen = self.credentials["citizen"]
        form = {"username": citizen["username"], "password": citizen["password"]}
        token = self.client.post("/v1/me/token", data=form).json()["access_token"]
        self.citizen = {"Authorization": f"Bearer {token}"}
        self.step_up = StepUp(self.client, self.citizen, SoftPasskey(self.credentials["base_url"]))
        self.step_up.enrol(citizen["totp_secret"])

    def grant(self) -> str:
        request = {
            "subject": {"kind": "id_number", "value": self.credentials["citizen"]["id_number"]},
            "purpose": PURPOSE,
            "categories": CATEGORIES,
            "validity_days": 30,
            "max_uses": USES_PER_GRANT,
        }
        grant_id: str = self.client.post(
            "/v1/consent-requests", json=request, headers=self.bank
        ).json()["grant_id"]
        approval = {
            "categories": CATEGORIES,
            "second_factor": self.step_up.proof("approve", grant_id),
        }
        path = f"/v1/me/consents/{grant_id}/approve"
        assert self.client.post(path, json=approval, headers=self.citizen).status_code == 200
        return grant_id


def bearer(client: httpx.Client | TestClient, credentials: dict[str, Any]) -> str:
    """A fresh access token of the demo establishment."""
    persona = credentials["establishment"]
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(persona, f"{credentials['base_url']}/oauth/token"),
    }
    token: str = client.post("/oauth/token", data=form).json()["access_token"]
    return token


def inquiry(credentials: dict[str, Any], grant_id: str) -> dict[str, Any]:
    return {
        "grant_id": grant_id,
        "subject": {"kind": "id_number", "value": credentials["citizen"]["id_number"]},
        "purpose": PURPOSE,
        "categories": CATEGORIES,
    }


# -- the benchmark -------------------------------------------------------------------------


@benchmark(
    "inquiry.authorized.vs_bare",
    unit="x bare req/s",
    target=0.25,
    higher_is_better=True,
    baseline="bare FastAPI (=1)",
)
def authorized_vs_bare(context: Context) -> Measurement:
    plan = QUICK if context.quick else FULL
    scratch = context.scratch / "inquiry"
    scratch.mkdir()
    settings = worker_settings()
    requests = plan.per_round * plan.rounds
    province = seeded_province(scratch, requests * len(settings))
    payload = scratch / "payload.json"
    payload.write_text(json.dumps(province.answer))
    bodies: list[str | None] = [
        json.dumps(inquiry(province.credentials, province.grants[i // USES_PER_GRANT]))
        for i in range(requests * len(settings))
    ]
    medians, details = [], {}
    for number, workers in enumerate(settings):
        share = bodies[number * requests : (number + 1) * requests]
        rounds = _measure(province, share, plan, scratch, workers, payload)
        _report(rounds, len(json.dumps(province.answer)), workers, plan)
        medians.append(statistics.median(r.ratio for r in rounds))
        details[f"workers={workers}"] = {
            "median_ratio": medians[-1],
            "rounds": [asdict(r) | {"ratio": r.ratio} for r in rounds],
        }
    return Measurement(medians[0], 1.0, details)


def worker_settings() -> list[int]:
    """The worker counts measured: one per core (how the gateway is deployed, the figure
    held to the target), then a single worker (shown under the table)."""
    cores = os.cpu_count() or 1
    return [cores, 1] if cores > 1 else [1]


def _measure(
    province: Province,
    bodies: list[str | None],
    plan: Sizes,
    scratch: Path,
    workers: int,
    payload: Path,
) -> list[Round]:
    """Both servers with ``workers`` worker processes, measured in alternation."""
    bare = serve("bench.inquiry:bare_app", BARE_PORT, workers, {PAYLOAD_VARIABLE: str(payload)})
    try:
        gateway = serve("gateway.app:create_app", GATEWAY_PORT, workers, province.environment)
        try:
            rounds = _alternate(province, bodies, plan, scratch)
        finally:
            stop(gateway)
    finally:
        stop(bare)
    errors = [(r.ours.errors, r.bare.errors) for r in rounds if r.ours.errors or r.bare.errors]
    if errors:
        raise RuntimeError(f"failed requests (gateway, bare) per round: {errors}")
    return rounds


def _alternate(
    province: Province, bodies: list[str | None], plan: Sizes, scratch: Path
) -> list[Round]:
    """Each round: the bare endpoint, then the gateway, with the round's share of the bodies."""
    with httpx.Client(base_url=province.settings.base_url) as client:
        headers = {"Authorization": f"Bearer {bearer(client, province.credentials)}"}
    bare = Load(f"http://127.0.0.1:{BARE_PORT}/bare", {}, [], plan.warmup, plan.connections)
    url = f"{province.settings.base_url}/v1/inquiries/authorized"
    ours = Load(url, headers, [], plan.warmup, plan.connections)
    rounds = []
    for number in range(plan.rounds):
        share = bodies[number * plan.per_round : (number + 1) * plan.per_round]
        baseline = run_load(replace(bare, bodies=share), scratch)
        measured = run_load(replace(ours, bodies=share), scratch)
        rounds.append(Round(measured, baseline, os.getloadavg()[0]))
    return rounds


def _report(rounds: list[Round], size: int, workers: int, plan: Sizes) -> None:
    lines = [
        f"\ninquiry.authorized.vs_bare: {plan.rounds} rounds of {plan.requests} requests each "
        f"(after {plan.warmup} warm-up) over {plan.connections} connections, uvicorn "
        f"workers={workers}, answer {size} bytes",
        f"  {'':<36}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'ratio':>8}{'load':>7}",
    ]
    for number, measured in enumerate(rounds, 1):
        for name, figures, ratio, load in (
            (f"{number}: bare FastAPI", measured.bare, "", ""),
            (
                f"{number}: POST /v1/inquiries/authorized",
                measured.ours,
                f"{measured.ratio:.3f}",
                f"{measured.load_average:.1f}",
            ),
        ):
            lines.append(
                f"  {name:<36}{figures.requests_per_second:>10,.0f}{figures.p50_ms:>10.1f}"
                f"{figures.p99_ms:>10.1f}{ratio:>8}{load:>7}"
            )
    lines.append(f"  median ratio {statistics.median(r.ratio for r in rounds):.3f}\n")
    print("\n".join(lines))


if __name__ == "__main__":
    # The load process: ``python -m bench.inquiry PLAN.json`` prints what it measured.
    plan_document = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asdict(_drive(Load(**plan_document)))))
