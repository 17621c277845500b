"""Inquiry benchmark (Art. 39 para. 2-3): every disclosure channel next to a bare FastAPI endpoint.

* ``inquiry.authorized.vs_bare`` — requests per second of ``POST /v1/inquiries/authorized``
  (token check, consent check, archive read, redaction, durable audit append, the use counted)
  as a fraction of a bare endpoint's: an ``async def`` FastAPI route returning the same JSON
  document (the authorized answer, the same size). The headline is ONE worker on SQLite (the
  gateway as ``make run`` serves it); target >= 0.20, aim 0.5.

The load is ``wrk`` (:mod:`bench.wrk`, C): 16 keep-alive connections, a fixed time per run;
then, each round, the authorized inquiry again with 64 (:attr:`Plan.capacity`): with 16, each of
four processes serves four at a time and its log's batches hold as few entries, so the
throughput measured there is bounded by the latency of one inquiry (16 / latency) as much as by
what the processes can do; 64 keep every process of every setting busy.
The bare endpoint and the gateway are measured in alternation, several rounds in one run, so
that both meet the same load of a shared machine; a figure is the median of the rounds' ratios,
each round's gateway figure divided by that round's bare one. Every round prints req/s, p50 and
p99 of both sides, the CPU time per request, how busy the gateway's event loops were
(:func:`loop_seconds`), the machine's load average and how wrk's connections were split among
the gateway's workers (:func:`connections_per_worker`). A round whose bare endpoint served fewer
than :data:`VALID_BARE` req/s is invalid (the machine or the load generator bounds it, not the
server) and left out of the medians; a run with no valid round is marked invalid.

Settings, in one run: SQLite with one worker, every channel (authorized, sharing, authority,
self, public), each round the bare endpoint and then the five; with ``--database-url`` (``make
bench DATABASE_URL=postgresql+psycopg://...``, a fresh schema) also PostgreSQL with 1, 2 and 4
gateway processes (``GATEWAY_WORKERS``; the bare endpoint with as many), every channel too. The
settings take their rounds in turn - round 1 of each setting, then round 2 of each - each round
on servers started for it and warmed up (:func:`_round`), so that the settings a target compares
meet the machine of the same minutes: the speed of these shared cores drifts within a run by
more than the settings differ. Where the two stores are compared, it is by each setting's ratio
to its own bare endpoint and by the gateway's own req/s; the run ends with PostgreSQL's two
targets judged at both loads (:func:`scale_out`), on the medians and round by round: two
processes serve at least as many authorized inquiries a second as one SQLite worker, and
throughput does not fall from 1 to 2 to 4 processes.

Set-up (not measured): the demo province and its archive are seeded; the demo establishment
asks and the demo citizen approves one ``post_loan_management`` grant through the consent
API, which is then copied (new grant ids) with a use limit far above the purpose's 12, so that
no inquiry of the run is refused for spent uses: each use is still counted, in the same
transaction as the inquiry's audit entry. The grants table also holds
:data:`OTHER_GRANTS` other active grants, none of them used by the run, as a province's would:
a statement that reads the grants other than by their key shows in the figures (on a fresh
PostgreSQL schema, never analyzed, the use count of a batch once read every active grant).
Every request gets a 200 or the run fails.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, select

from bench import Context, Measurement, benchmark
from bench.harness import (
    ESTABLISHED,
    Province,
    descendants,
    free_port,
    process_cpu_seconds,
    scratch_database,
    serving_processes,
    socket_inodes,
    tcp_states,
)
from bench.load import (
    CASE_REFERENCE,
    CATEGORIES,
    authorized_inquiry,
    consent_request,
    demo_citizen,
    token_request,
)
from bench.passkey import SoftPasskey, StepUp
from bench.wrk import Measured, Request, require_wrk, run
from consent.requests import new_grant_id
from gateway.cli import available_cores
from gateway.consents.repository import GRANTS

PAYLOAD_VARIABLE = "BENCH_BARE_PAYLOAD"
PORTS_VARIABLE = "BENCH_PORTS"
"""``first-last``: the TCP ports the servers of the run listen on (default: any free port)."""
DUTY = "市场监管执法检查"  # the duty a sharing inquiry states (Art. 40 para. 1), as bench.load's
GRANT_COPIES = 64
USES_PER_COPY = 1_000_000_000
OTHER_GRANTS = 50_000
VALID_BARE = 3000.0
CHANNELS = ("authorized", "sharing", "authority", "self", "public")
PROCESSES = (1, 2, 4)


@dataclass(frozen=True)
class Plan:
    """``connections``: every channel's load; ``capacity``: the authorized inquiry's again, with
    that many connections, enough to keep every process of every setting busy."""

    seconds: float
    warmup: float
    rounds: int
    connections: int = 16
    capacity: int = 64


FULL = Plan(seconds=6, warmup=2, rounds=3)
QUICK = Plan(seconds=2, warmup=1, rounds=1)


@dataclass(frozen=True)
class Round:
    """One round: the bare endpoint, then each channel; with the CPU time each server spent
    per request (all its processes, user + system), which a shared machine's load does not
    change as it changes req/s, for each channel how busy the workers' event loops were
    (:func:`loop_seconds` per second of the run and worker): below 1, the loop waited - for the
    audit log's batches, or for the interpreter lock its other threads held - and how wrk's
    connections were split among the gateway's workers (:func:`connections_per_worker`);
    ``capacity``: the authorized inquiry at :attr:`Plan.capacity` connections, and its CPU time
    per request."""

    bare: Measured
    channels: Mapping[str, Measured]
    load_average: float
    bare_cpu_ms: float
    cpu_ms: Mapping[str, float]
    loop_busy: Mapping[str, float]
    split: Mapping[str, tuple[int, ...]]
    capacity: Measured
    capacity_cpu_ms: float

    @property
    def valid(self) -> bool:
        return self.bare.requests_per_second >= VALID_BARE

    def ratio(self, channel: str) -> float:
        return self.channels[channel].requests_per_second / self.bare.requests_per_second


@dataclass(frozen=True)
class Setting:
    store: str
    workers: int
    channels: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.store}, {self.workers} process{'es' if self.workers > 1 else ''}"


# -- the bare endpoint ---------------------------------------------------------------------


def port() -> int:
    """A free port: in ``$BENCH_PORTS`` (``first-last``, for a machine whose users share out
    port ranges) when it is set, else one the operating system hands out."""
    ports = os.environ.get(PORTS_VARIABLE)
    if not ports:
        return free_port()
    first, _, last = ports.partition("-")
    for candidate in range(int(first), int(last or first) + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    raise RuntimeError(f"no free port in {PORTS_VARIABLE}={ports}")


def bare_app() -> FastAPI:
    """The baseline: FastAPI with one ``async def`` route returning a prepared JSON document."""
    payload = json.loads(Path(os.environ[PAYLOAD_VARIABLE]).read_text())
    app = FastAPI()

    @app.api_route("/bare", methods=["GET", "POST"])
    async def bare() -> dict[str, Any]:
        return payload  # type: ignore[no-any-return]

    return app


@dataclass(frozen=True)
class Served:
    url: str
    pid: int
    port: int


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its descendants (the server's workers,
    the audit log's writer processes)."""
    return sum(map(process_cpu_seconds, [pid, *descendants(pid)]))


def loop_seconds(pid: int, workers: int, port: int) -> float:
    """User + system CPU seconds of the main threads of the server's workers - the threads that
    run their event loops."""
    serving = serving_processes(pid, workers, port)
    return sum(process_cpu_seconds(worker, worker) for worker in serving)


def connections_per_worker(pid: int, workers: int, port: int) -> tuple[int, ...]:
    """How many established connections to ``port`` each worker of server ``pid`` holds, most
    first. Several workers share one listening socket, and whichever is awake when connections
    arrive accepts them, all those queued then: a few long-lived connections, such as wrk's,
    can land unevenly. Read from ``/proc``: the workers' sockets against the kernel's TCP
    table."""
    states = tcp_states(port)
    split = []
    for worker in serving_processes(pid, workers, port):
        held = [states[inode] for inode in socket_inodes(worker) if inode in states]
        split.append(held.count(ESTABLISHED))
    return tuple(sorted(split, reverse=True))


def _halfway(seconds: float, pid: int, workers: int, port: int) -> tuple[int, ...]:
    time.sleep(seconds / 2)
    return connections_per_worker(pid, workers, port)


@contextmanager
def serving_bare(port: int, workers: int, payload: Path) -> Iterator[Served]:
    """uvicorn serving :func:`bare_app` as ``gateway serve`` serves the gateway."""
    command = [sys.executable, "-m", "uvicorn", "bench.inquiry:bare_app", "--factory"]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
    command += ["--log-level", "warning", "--no-server-header"]
    server = subprocess.Popen(command, env={**os.environ, PAYLOAD_VARIABLE: str(payload)})
    url = f"http://127.0.0.1:{port}/bare"
    try:
        _wait_for(url, server)
        yield Served(url, server.pid, port)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"the bare endpoint did not start on {url}")


# -- the province --------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    province: Province
    grants: tuple[str, ...]
    answer: bytes


def seeded(directory: Path, database_url: str | None) -> Seeded:
    """The demo province, its grants for the run and one authorized answer (the payload)."""
    province = Province.create(directory, database_url=database_url, checkpoint_interval="5")
    gateway_process = province.gateway(port())
    with gateway_process as gateway, httpx.Client(base_url=gateway.url, timeout=30) as client:
        tokens = Tokens(client, province.credentials)
        grant = _approved_grant(client, tokens, province.credentials)
        grants = _copies(province, grant)
        answer = client.post(
            "/v1/inquiries/authorized",
            json=inquiry(province.credentials, grants[0]),
            headers=tokens.header("establishment"),
        )
        answer.raise_for_status()
    return Seeded(province, grants, answer.content)


class Tokens:
    """Fresh access tokens of the demo personas (they live 300 s: one per wrk run)."""

    def __init__(self, client: httpx.Client, credentials: Mapping[str, Any]) -> None:
        self._client = client
        self._credentials = credentials

    def header(self, persona: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(persona)}"}

    def token(self, persona: str) -> str:
        path, form = token_request(self._credentials, persona)
        response = self._client.post(path, data=form)
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


def _approved_grant(client: httpx.Client, tokens: Tokens, credentials: Mapping[str, Any]) -> str:
    request = consent_request(demo_citizen(credentials), 12)
    asked = client.post(
        "/v1/consent-requests", json=request, headers=tokens.header("establishment")
    )
    asked.raise_for_status()
    grant_id: str = asked.json()["grant_id"]
    citizen = tokens.header("citizen")  # the passkey's proof is bound to this access token
    passkey = SoftPasskey.from_json(credentials["base_url"], credentials["citizen"]["passkey"])
    StepUp(client, citizen, passkey).approve(grant_id, CATEGORIES)
    return grant_id


def _copies(province: Province, grant_id: str) -> tuple[str, ...]:
    """``GRANT_COPIES`` copies of the approved grant with :data:`USES_PER_COPY` uses each, the
    run's, and :data:`OTHER_GRANTS` more that it does not use."""
    engine = province.engine()
    with engine.begin() as connection:
        row = connection.execute(select(GRANTS).where(GRANTS.c.grant_id == grant_id)).one()
        copies = [
            {**row._asdict(), "grant_id": new_grant_id(), "max_uses": USES_PER_COPY}
            for _ in range(GRANT_COPIES + OTHER_GRANTS)
        ]
        connection.execute(insert(GRANTS), copies)
    engine.dispose()
    return tuple(copy["grant_id"] for copy in copies[:GRANT_COPIES])


def inquiry(credentials: Mapping[str, Any], grant_id: str) -> dict[str, Any]:
    return authorized_inquiry(demo_citizen(credentials), grant_id)


def channel_request(channel: str, seed: Seeded, base_url: str, tokens: Tokens) -> Request:
    """What wrk sends to ``channel``, with a fresh token of its persona."""
    credentials = seed.province.credentials
    json_type = ("Content-Type", "application/json")
    if channel == "public":
        code = credentials["subjects"]["legal_persons"][0]
        return Request(f"{base_url}/v1/public/credit-subjects/{code}")
    if channel == "self":
        token = tokens.token("citizen")
        return Request(f"{base_url}/v1/me/credit-report", headers=(_bearer(token),))
    bodies: list[dict[str, Any]]
    if channel == "authorized":
        bodies = [inquiry(credentials, grant) for grant in seed.grants]
        persona = "establishment"
    elif channel == "sharing":
        bodies = [{"subject": demo_citizen(credentials), "categories": ["basic"], "duty": DUTY}]
        persona = "agency"
    else:
        basis = credentials["agency"]["legal_bases"][0]
        citizen = demo_citizen(credentials)
        bodies = [{"subject": citizen, "legal_basis": basis, "case_reference": CASE_REFERENCE}]
        persona = "agency"
    texts = tuple(json.dumps(body, ensure_ascii=False) for body in bodies)
    headers = (_bearer(tokens.token(persona)), json_type)
    return Request(f"{base_url}/v1/inquiries/{channel}", "POST", headers, texts)


def _bearer(token: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {token}")


# -- the benchmark -------------------------------------------------------------------------


@benchmark(
    "inquiry.authorized.vs_bare",
    unit="x bare req/s",
    target=0.20,
    higher_is_better=True,
    baseline="bare async FastAPI (=1)",
)
def authorized_vs_bare(context: Context) -> Measurement:
    require_wrk()
    plan = QUICK if context.quick else FULL
    scratch = context.scratch / "inquiry"
    settings = [Setting("sqlite", 1, CHANNELS)]
    database_urls: dict[str, str | None] = {"sqlite": None}
    if context.database_url:
        settings += [Setting("postgresql", n, CHANNELS) for n in PROCESSES]
        database_urls["postgresql"] = context.database_url
    details: dict[str, object] = {"uptime_before": _uptime()}
    rounds: dict[str, list[Round]] = {setting.name: [] for setting in settings}
    with ExitStack() as stores:
        seeds = {
            store: seeded(scratch / store, stores.enter_context(scratch_database(url)))
            for store, url in database_urls.items()
        }
        for number in range(1, plan.rounds + 1):
            for setting in settings:
                measured = _round(seeds[setting.store], setting, plan, scratch)
                _check_errors(setting, measured)
                rounds[setting.name].append(measured)
                print(_progress(number, plan, setting, measured), flush=True)
    bare: list[float] = []
    for setting in settings:
        summary = _summary(setting, rounds[setting.name])
        _report(setting, rounds[setting.name], summary, len(seeds[setting.store].answer), plan)
        details[setting.name] = summary
        if setting.store == "postgresql":
            bare.append(summary["bare_median_rps"])
    if context.database_url:
        verdicts = scale_out(settings, details, plan)
        details["scale_out"] = verdicts
        print(_scale_out_report(verdicts, bare, plan), flush=True)
    else:
        print("PostgreSQL not measured: make bench DATABASE_URL=postgresql+psycopg://...")
    details["uptime_after"] = _uptime()
    headline = details[settings[0].name]
    assert isinstance(headline, dict)
    return Measurement(headline["authorized"]["median_ratio"], 1.0, details, headline["valid"])


def scale_out(
    settings: Sequence[Setting], details: Mapping[str, Any], plan: Plan
) -> list[dict[str, Any]]:
    """PostgreSQL's two targets by the run's medians of the authorized inquiry, at the run's
    connections and at its capacity load: two processes serve at least as many inquiries a
    second as one SQLite worker, and throughput does not fall from 1 to 2 to 4 processes. Each
    also round by round: the settings' rounds of one number ran one after the other, in the
    same minutes."""
    verdicts = []
    for connections, figure in ((plan.connections, "authorized"), (plan.capacity, "capacity")):
        by_round = [
            _judged({(s.store, s.workers): rps for s, rps in zip(settings, row, strict=True)})
            for row in _paired(settings, details, figure)
        ]
        medians = {(s.store, s.workers): details[s.name][figure]["median_rps"] for s in settings}
        verdicts.append(
            {
                "connections": connections,
                **_judged(medians),
                "rounds": len(by_round),
                "rounds_two_at_least_sqlite": sum(r["two_at_least_sqlite"] for r in by_round),
                "rounds_not_falling": sum(r["not_falling"] for r in by_round),
            }
        )
    return verdicts


def _paired(
    settings: Sequence[Setting], details: Mapping[str, Any], figure: str
) -> list[tuple[float, ...]]:
    """The settings' req/s of the authorized inquiry round by round, ``figure`` "authorized" at
    the run's connections, "capacity" at its capacity load: the rounds valid in every setting,
    as the medians count only valid rounds (every round when none is)."""
    rows = list(zip(*(details[s.name]["rounds"] for s in settings), strict=True))
    valid = [row for row in rows if all(r["valid"] for r in row)]
    return [
        tuple(
            (r[figure] if figure == "capacity" else r["channels"][figure])["requests_per_second"]
            for r in row
        )
        for row in valid or rows
    ]


def _judged(rps: Mapping[tuple[str, int], float]) -> dict[str, Any]:
    """The two targets on req/s by (store, processes)."""
    sqlite = rps["sqlite", 1]
    processes = {n: rps["postgresql", n] for n in PROCESSES}
    series = [processes[n] for n in PROCESSES]
    return {
        "sqlite_1_rps": sqlite,
        "postgresql_rps": processes,
        "two_against_sqlite": processes[2] / sqlite,
        "two_at_least_sqlite": processes[2] >= sqlite,
        "not_falling": all(a <= b for a, b in itertools.pairwise(series)),
    }


def _scale_out_report(
    verdicts: Sequence[Mapping[str, Any]], bare: Sequence[float], plan: Plan
) -> str:
    """The verdicts, and beside them the bare endpoint's medians with the same processes in the
    same rounds: what more processes than the machine has cores cost a server that shares
    nothing."""
    lines = ["\nPostgreSQL's targets, the authorized inquiry's medians (and its rounds, paired):"]
    for verdict in verdicts:
        processes = " / ".join(f"{rps:,.0f}" for rps in verdict["postgresql_rps"].values())
        two = "met" if verdict["two_at_least_sqlite"] else "not met"
        falling = "met" if verdict["not_falling"] else "not met"
        rounds = verdict["rounds"]
        lines += [
            f"  {verdict['connections']} connections: one SQLite worker "
            f"{verdict['sqlite_1_rps']:,.0f} req/s; PostgreSQL with 1 / 2 / 4 processes "
            f"{processes}",
            f"    two processes >= one SQLite worker: {verdict['two_against_sqlite']:.0%} "
            f"({two}; in {verdict['rounds_two_at_least_sqlite']} of {rounds} rounds); "
            f"not falling from 1 to 2 to 4 processes: {falling} "
            f"(in {verdict['rounds_not_falling']} of {rounds} rounds)",
        ]
    processes = " / ".join(f"{rps:,.0f}" for rps in bare)
    lines.append(
        f"  beside them the bare endpoint, 1 / 2 / 4 processes at {plan.connections} connections: "
        f"{processes} req/s ({available_cores()} cores)"
    )
    return "\n".join(lines)


def _round(seed: Seeded, setting: Setting, plan: Plan, scratch: Path) -> Round:
    """One round of ``setting``: the bare endpoint and the gateway started, both with
    ``setting.workers``, warmed up (a pass of :attr:`Plan.warmup` seconds per side, not kept),
    then loaded in alternation, and stopped."""
    payload = scratch / "payload.json"
    payload.write_bytes(seed.answer)
    province = replace(
        seed.province, values={**seed.province.values, "workers": str(setting.workers)}
    )
    with ExitStack() as servers:
        bare = servers.enter_context(serving_bare(port(), setting.workers, payload))
        gateway = servers.enter_context(province.gateway(port()))
        # No connection kept between token requests: the gateway's connections are wrk's.
        no_keepalive = httpx.Limits(max_keepalive_connections=0)
        client = servers.enter_context(
            httpx.Client(base_url=gateway.url, timeout=30, limits=no_keepalive)
        )
        sampler = servers.enter_context(ThreadPoolExecutor(1))
        tokens = Tokens(client, province.credentials)

        def cpu_per_request(
            pid: int, port: int, request: Request, seconds: float, connections: int
        ) -> tuple[Measured, float, float]:
            workers = setting.workers
            before, loop_before = cpu_seconds(pid), loop_seconds(pid, workers, port)
            start = time.monotonic()
            measured = run(request, seconds=seconds, connections=connections, scratch=scratch)
            cpu = (cpu_seconds(pid) - before) / max(measured.requests, 1) * 1000
            elapsed = (time.monotonic() - start) * workers
            return measured, cpu, (loop_seconds(pid, workers, port) - loop_before) / elapsed

        def split_halfway(seconds: float) -> Future[tuple[int, ...]]:
            """The gateway's connections per worker, counted halfway through a run."""
            return sampler.submit(_halfway, seconds, gateway.pid, setting.workers, gateway.port)

        def loaded(seconds: float) -> Round:
            bare_figures, bare_cpu, _ = cpu_per_request(
                bare.pid, bare.port, Request(bare.url), seconds, plan.connections
            )
            measured, cpu, busy, split = {}, {}, {}, {}
            for channel in setting.channels:
                request = channel_request(channel, seed, gateway.url, tokens)
                halfway = split_halfway(seconds)
                measured[channel], cpu[channel], busy[channel] = cpu_per_request(
                    gateway.pid, gateway.port, request, seconds, plan.connections
                )
                split[channel] = halfway.result()
            request = channel_request("authorized", seed, gateway.url, tokens)
            capacity, capacity_cpu, _ = cpu_per_request(
                gateway.pid, gateway.port, request, seconds, plan.capacity
            )
            load_average = os.getloadavg()[0]
            return Round(
                bare_figures,
                measured,
                load_average,
                bare_cpu,
                cpu,
                busy,
                split,
                capacity,
                capacity_cpu,
            )

        loaded(plan.warmup)
        return loaded(plan.seconds)


def _progress(number: int, plan: Plan, setting: Setting, measured: Round) -> str:
    """One line per round and setting as the run goes: the authorized inquiry at both loads."""
    authorized = measured.channels["authorized"]
    return (
        f"round {number} of {plan.rounds}, {setting.name}: authorized "
        f"{authorized.requests_per_second:,.0f} req/s ({measured.ratio('authorized'):.3f}x bare), "
        f"{measured.capacity.requests_per_second:,.0f} at {plan.capacity} connections"
    )


def _check_errors(setting: Setting, measured: Round) -> None:
    loads = [("bare", measured.bare), *measured.channels.items(), ("capacity", measured.capacity)]
    errors = {name: figures.errors for name, figures in loads if figures.errors}
    if errors:
        raise RuntimeError(f"{setting.name}: requests failed (not 200): {errors}")


def _summary(setting: Setting, rounds: Sequence[Round]) -> dict[str, Any]:
    valid = [r for r in rounds if r.valid]
    counted = valid or list(rounds)
    summary: dict[str, Any] = {
        "valid": bool(valid),
        "rounds": [asdict(r) | {"valid": r.valid} for r in rounds],
    }
    for channel in setting.channels:
        summary[channel] = {
            "median_ratio": statistics.median(r.ratio(channel) for r in counted),
            "median_rps": statistics.median(
                r.channels[channel].requests_per_second for r in counted
            ),
            "median_p99_ms": statistics.median(r.channels[channel].p99_ms for r in counted),
            "median_cpu_ms": statistics.median(r.cpu_ms[channel] for r in counted),
            "median_loop_busy": statistics.median(r.loop_busy[channel] for r in counted),
        }
    summary["capacity"] = {
        "median_rps": statistics.median(r.capacity.requests_per_second for r in counted),
        "median_p99_ms": statistics.median(r.capacity.p99_ms for r in counted),
        "median_cpu_ms": statistics.median(r.capacity_cpu_ms for r in counted),
    }
    summary["bare_median_cpu_ms"] = statistics.median(r.bare_cpu_ms for r in counted)
    summary["bare_median_rps"] = statistics.median(r.bare.requests_per_second for r in counted)
    return summary


def _report(
    setting: Setting, rounds: Sequence[Round], summary: Mapping[str, Any], size: int, plan: Plan
) -> None:
    lines = [
        f"\ninquiry benchmark, {setting.name}: {len(rounds)} rounds of {plan.seconds:.0f} s per "
        f"side over {plan.connections} connections (wrk), answer {size} bytes",
        f"  {'':<28}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>11}{'ratio':>8}"
        f"{'loop':>7}{'load':>7}  connections per worker",
    ]
    for number, measured in enumerate(rounds, 1):
        mark = "" if measured.valid else f"  INVALID: bare below {VALID_BARE:,.0f} req/s"
        bare = _line(f"{number}: bare FastAPI", measured.bare, measured.bare_cpu_ms, "", "", "")
        lines.append(bare + mark)
        for channel, figures in measured.channels.items():
            ratio, load = f"{measured.ratio(channel):.3f}", f"{measured.load_average:.1f}"
            cpu, busy = measured.cpu_ms[channel], f"{measured.loop_busy[channel]:.0%}"
            split = "/".join(map(str, measured.split[channel]))
            lines.append(_line(f"{number}: {channel}", figures, cpu, ratio, busy, load, split))
        name = f"{number}: authorized, {plan.capacity} conn."
        lines.append(_line(name, measured.capacity, measured.capacity_cpu_ms, "", "", ""))
    for channel in setting.channels:
        medians = summary[channel]
        lines.append(
            f"  {channel}: median ratio {medians['median_ratio']:.3f}, CPU "
            f"{medians['median_cpu_ms']:.2f} ms per request, event loop busy "
            f"{medians['median_loop_busy']:.0%}"
        )
    capacity = summary["capacity"]
    lines.append(
        f"  authorized at {plan.capacity} connections: median {capacity['median_rps']:,.0f} "
        f"req/s, p99 {capacity['median_p99_ms']:.1f} ms"
    )
    if not summary["valid"]:
        lines.append(f"  INVALID RUN: the bare endpoint stayed below {VALID_BARE:,.0f} req/s")
    print("\n".join(lines), flush=True)


def _line(
    name: str, figures: Measured, cpu_ms: float, ratio: str, busy: str, load: str, split: str = ""
) -> str:
    return (
        f"  {name:<28}{figures.requests_per_second:>10,.0f}{figures.p50_ms:>9.1f}"
        f"{figures.p99_ms:>9.1f}{cpu_ms:>11.2f}{ratio:>8}{busy:>7}{load:>7}  {split}"
    ).rstrip()


def _uptime() -> str:
    return Path("/proc/loadavg").read_text().strip()
