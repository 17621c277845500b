"""``python -m bench.scaleout`` (``make scaleout``): two gateway processes, one PostgreSQL, one
Redis, the same clients - and one gateway's behaviour.

Two ``gateway serve`` processes share a freshly seeded province (a fresh PostgreSQL schema,
the same key files, the same Redis database, which is emptied first), and every client sends
to both. It shows:

* **rate limits shared** - ``2 x budget`` anonymous public lookups alternate between the two
  processes: exactly ``budget`` are served and the rest refused with 429 by both, as one
  budget (``GATEWAY_RATE_LIMIT_PUBLIC``) in Redis;
* **revocation seen by both at once** - per round, a grant is approved and both processes
  serve inquiries under it in a steady stream; the citizen revokes through one of them; the
  other refuses the very next inquiry (``revoked``), and no inquiry sent after the revocation
  was acknowledged is served by either. An access token revoked at one (``/oauth/revoke``)
  is refused by the other at once, and a client assertion used at one is refused by the other
  (replay, RFC 7523 ``jti``);
* **use counts exact** - a grant of ``SPENT_USES`` uses, ``SPENT_ATTEMPTS`` inquiries under it
  sent at once, half through each process, each on a connection of its own: exactly
  ``SPENT_USES`` are served, the others refused ``exhausted``, and the grant counts exactly
  ``SPENT_USES`` uses;
* **audit indices contiguous** - under the mixed load of :mod:`bench.load` on both processes,
  the log's indices are exactly ``0 .. n-1``, every answer's leaf is in it, at its own index,
  both processes appended and signed checkpoints, and the log verifies
  (``gateway audit verify --local``) - with the other invariants of :mod:`bench.invariants`.

With ``--gateway-workers N`` each gateway serves with N uvicorn worker processes, as ``gateway
serve`` does with ``GATEWAY_WORKERS=N``. The revocation streams send each inquiry on a
connection of its own, so that every worker of a gateway receives some, and the run fails if a
worker's CPU time shows that it served (next to) nothing.

Exit status 1 on any problem; the report is written to ``bench/results/scaleout.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import Engine, func, select

from bench.harness import (
    Gateway,
    Province,
    free_port,
    process_cpu_seconds,
    scratch_database,
    serving_processes,
    write_report,
)
from bench.invariants import GRANTS, Snapshot, answered, check_all, failures_in, secrets_in
from bench.load import (
    ASSERTION_TYPE,
    CATEGORIES,
    DEFAULT_MIX,
    Plan,
    authorized_inquiry,
    consent_request,
    demo_citizen,
    run_load,
)
from bench.passkey import SoftPasskey, StepUp
from gateway.audit_log.models import AuditCheckpoint, AuditLeaf, table
from gateway.demo import client_assertion

LEAVES, CHECKPOINTS = table(AuditLeaf), table(AuditCheckpoint)
NO_KEEPALIVE = httpx.Limits(max_keepalive_connections=0)
PACE = 0.06
"""Seconds between the inquiries of one stream (a grant allows :data:`STREAM_USES` in all)."""
STREAM_USES = 12
SPENT_USES, SPENT_ATTEMPTS = 5, 24
BEFORE_REVOKE, AFTER_REVOKE = 0.25, 0.3
BUSY_WORKER = 0.5
"""CPU seconds a worker process spends at the least while the run loads it."""


@dataclass(frozen=True)
class ScaleOutReport:
    budget: int
    served_of_budget: int
    refused_by: dict[str, int]
    revocations: int
    inquiries_after_revocation: int
    served_after_revocation: int
    spent_served: int
    spent_refused: dict[str, int]
    spent_uses: int
    token_refused_by_other: bool
    replay_refused_by_other: bool
    answers_by_process: dict[str, int]
    worker_cpu_seconds: dict[str, list[float]]
    log_leaves: int
    log_indexes: tuple[int, int, int]
    checkpoints: int
    log: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def text(self) -> str:
        first, last, count = self.log_indexes
        lines = [
            "scale-out: two gateway processes, one PostgreSQL, one Redis",
            f"rate limit      {self.served_of_budget} of {2 * self.budget} public lookups "
            f"served for a budget of {self.budget}; 429 from "
            + ", ".join(f"{name}: {n}" for name, n in sorted(self.refused_by.items())),
            f"revocation      {self.revocations} grants revoked under a stream to both; "
            f"{self.inquiries_after_revocation} inquiries sent after the revoke returned, "
            f"{self.served_after_revocation} served; a token revoked at a refused at b (an "
            f"inquiry's too, the token verified at b before): "
            f"{_yes(self.token_refused_by_other)}; an assertion used at a replayed at b "
            f"refused: {_yes(self.replay_refused_by_other)}",
            f"use count       {SPENT_ATTEMPTS} inquiries at once under a grant of {SPENT_USES} "
            f"uses, through both: {self.spent_served} served, refused "
            + ", ".join(f"{reason}: {n}" for reason, n in sorted(self.spent_refused.items()))
            + f"; the grant counts {self.spent_uses} uses",
            f"audit indices   {count} leaves, indexes {first}..{last}; answers by process "
            + ", ".join(f"{name}: {n}" for name, n in sorted(self.answers_by_process.items()))
            + f"; {self.checkpoints} checkpoints",
            "workers         "
            + "; ".join(
                f"{name}: {len(seconds)}, CPU " + ", ".join(f"{s:.2f}" for s in seconds) + " s"
                for name, seconds in sorted(self.worker_cpu_seconds.items())
            ),
            f"audit log       {self.log.splitlines()[0] if self.log else 'NOT verified'}",
        ]
        lines += [f"PROBLEM  {problem}" for problem in self.problems]
        lines.append("scale-out PASSED" if self.passed else "scale-out FAILED")
        return "\n".join(lines)


def scaleout(
    directory: Path,
    *,
    database_url: str,
    redis_url: str,
    duration: float = 20.0,
    workers: int = 6,
    revocations: int = 5,
    budget: int = 20,
    gateway_workers: int = 1,
) -> ScaleOutReport:
    """Seed, serve twice - each gateway with ``gateway_workers`` worker processes - and show
    each property; see the module docstring."""
    redis.Redis.from_url(redis_url).flushdb()
    province = Province.create(
        directory,
        database_url=database_url,
        redis_url=redis_url,
        rate_limit_public=f"{budget}/hour",
        workers=str(gateway_workers),
    )
    problems: list[str] = []
    engine = province.engine()
    snapshot = Snapshot.take(engine)
    with (
        province.gateway(name="a") as a,
        province.gateway(free_port(), name="b") as b,
        _Clients(province, a, b) as clients,
    ):
        serving = {
            name: serving_processes(gateway.pid, gateway_workers, gateway.port)
            for name, gateway in (("a", a), ("b", b))
        }
        cpu_before = {pid: process_cpu_seconds(pid) for pids in serving.values() for pid in pids}
        served, refused_by = _shared_budget(clients, province, budget, problems)
        streams = [_revocation_round(clients, number, problems) for number in range(revocations)]
        spent_served, spent_refused, spent_uses = _exact_uses(clients, engine, problems)
        token_refused = _revoked_token(clients, problems)
        replay_refused = _replayed_assertion(clients, problems)
        mix = {name: weight for name, weight in DEFAULT_MIX.items() if name != "public"}
        plan = Plan([a.url, b.url], province.credentials, duration, workers, mix=mix)
        exchanges = run_load(plan, directory)
        worker_cpu = {
            name: [round(process_cpu_seconds(pid) - cpu_before[pid], 2) for pid in pids]
            for name, pids in serving.items()
        }
    problems += idle_workers(worker_cpu, gateway_workers)
    provider = province.credentials["provider"]["client_id"]
    problems += check_all(engine, exchanges, provider, snapshot)
    for gateway in (a, b):
        output = gateway.log.read_text()
        problems += secrets_in(output, province.credentials) + failures_in(output)
    problems += [f"{e.op} {e.status}: {e.error}" for e in exchanges if not e.ok]
    by_process = Counter("ab"[e.via] for e in answered(exchanges))
    if len(by_process) < 2:
        problems.append(f"not both processes answered: {dict(by_process)}")
    with engine.connect() as connection:
        first, last, count = connection.execute(
            select(func.min(LEAVES.c.leaf_index), func.max(LEAVES.c.leaf_index), func.count())
        ).one()
        checkpoints = connection.execute(select(func.count()).select_from(CHECKPOINTS)).scalar()
    engine.dispose()
    if (first, last) != (0, count - 1):
        problems.append(f"the log's indexes are {first}..{last} for {count} leaves")
    try:
        log = province.verify_log()
    except RuntimeError as failure:
        log = ""
        problems.append(f"the log does not verify: {failure}")
    after = [e for stream in streams for e in stream]
    return ScaleOutReport(
        budget=budget,
        served_of_budget=served,
        refused_by=refused_by,
        revocations=revocations,
        inquiries_after_revocation=len(after),
        served_after_revocation=sum(1 for status, _ in after if status == 200),
        spent_served=spent_served,
        spent_refused=dict(spent_refused),
        spent_uses=spent_uses,
        token_refused_by_other=token_refused,
        replay_refused_by_other=replay_refused,
        answers_by_process=dict(by_process),
        worker_cpu_seconds=worker_cpu,
        log_leaves=count,
        log_indexes=(first, last, count),
        checkpoints=int(checkpoints or 0),
        log=log,
        problems=problems,
    )


class _Clients:
    """Keep-alive clients to both processes, and the demo personas' tokens."""

    def __init__(self, province: Province, a: Gateway, b: Gateway) -> None:
        self.credentials = province.credentials
        self.a, self.b = httpx.Client(base_url=a.url), httpx.Client(base_url=b.url)

    def __enter__(self) -> _Clients:
        return self

    def __exit__(self, *_: object) -> None:
        self.a.close()
        self.b.close()

    def pair(self, number: int) -> tuple[httpx.Client, httpx.Client]:
        """(one, the other), swapping every round."""
        return (self.a, self.b) if number % 2 == 0 else (self.b, self.a)

    def token(self, persona: str, via: httpx.Client) -> str:
        if persona == "citizen":
            citizen = self.credentials["citizen"]
            form = {"username": citizen["username"], "password": citizen["password"]}
            response = via.post("/v1/me/token", data=form)
        else:
            response = via.post(
                "/oauth/token", data={"grant_type": "client_credentials", **self.assertion(persona)}
            )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def assertion(self, persona: str) -> dict[str, str]:
        audience = f"{self.credentials['base_url']}/oauth/token"
        return {
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(self.credentials[persona], audience),
        }


def idle_workers(worker_cpu: dict[str, list[float]], expected: int) -> list[str]:
    """Each gateway's workers, found and busy: a worker whose CPU time grew by less than
    :data:`BUSY_WORKER` seconds served (next to) nothing, and the run did not show that every
    worker of a gateway behaves as one."""
    problems = []
    for name, seconds in worker_cpu.items():
        if len(seconds) != expected:
            problems.append(f"gateway {name} serves with {len(seconds)} workers, not {expected}")
        if any(spent < BUSY_WORKER for spent in seconds):
            problems.append(f"a worker of gateway {name} served (next to) nothing: {seconds} s")
    return problems


def _shared_budget(
    clients: _Clients, province: Province, budget: int, problems: list[str]
) -> tuple[int, dict[str, int]]:
    code = province.credentials["subjects"]["legal_persons"][0]
    statuses: list[tuple[str, int]] = []
    for number in range(2 * budget):
        via = clients.pair(number)[0]
        status = via.get(f"/v1/public/credit-subjects/{code}").status_code
        statuses.append(("a" if via is clients.a else "b", status))
    served = sum(1 for _, status in statuses if status == 200)
    refused = Counter(name for name, status in statuses if status == 429)
    if served != budget or sum(refused.values()) != budget or len(refused) != 2:
        problems.append(f"public lookups with a budget of {budget}: {statuses}")
    return served, dict(refused)


@dataclass(frozen=True)
class _Approved:
    """A grant the demo citizen approved, and what its inquiries send."""

    grant: str
    bank: dict[str, str]
    citizen: dict[str, str]
    step_up: StepUp
    inquiry: dict[str, Any]


def _approved(clients: _Clients, number: int, max_uses: int) -> _Approved:
    """Request a grant through one process and approve it through the other (``number``
    chooses which is which)."""
    one, other = clients.pair(number)
    bank = {"Authorization": f"Bearer {clients.token('establishment', one)}"}
    citizen = {"Authorization": f"Bearer {clients.token('citizen', other)}"}
    subject = demo_citizen(clients.credentials)
    request = consent_request(subject, max_uses)
    grant = one.post("/v1/consent-requests", json=request, headers=bank).json()["grant_id"]
    passkey = SoftPasskey.from_json(
        clients.credentials["base_url"], clients.credentials["citizen"]["passkey"]
    )
    step_up = StepUp(other, citizen, passkey)
    step_up.approve(grant, CATEGORIES)
    return _Approved(grant, bank, citizen, step_up, authorized_inquiry(subject, grant))


def _exact_uses(
    clients: _Clients, engine: Engine, problems: list[str]
) -> tuple[int, Counter[str], int]:
    """:data:`SPENT_ATTEMPTS` inquiries at once under a grant of :data:`SPENT_USES` uses, half
    through each process, each on a connection of its own (so through every worker): exactly
    that many served, the others refused ``exhausted``, and the grant counts exactly that many.
    Returns (served, the refusals' reasons, the uses the grant counts)."""
    approved = _approved(clients, 0, SPENT_USES)
    start = threading.Barrier(SPENT_ATTEMPTS, timeout=60)  # one never there: an error, no hang

    def attempt(number: int) -> httpx.Response:
        via = clients.pair(number)[0]
        with httpx.Client(base_url=str(via.base_url), timeout=60) as own:
            start.wait()
            return own.post(
                "/v1/inquiries/authorized", json=approved.inquiry, headers=approved.bank
            )

    with ThreadPoolExecutor(SPENT_ATTEMPTS) as pool:
        responses = list(pool.map(attempt, range(SPENT_ATTEMPTS)))
    served = sum(1 for response in responses if response.status_code == 200)
    refused = Counter(
        str(response.json().get("reason")) for response in responses if response.status_code != 200
    )
    with engine.connect() as connection:
        uses = connection.execute(
            select(GRANTS.c.uses).where(GRANTS.c.grant_id == approved.grant)
        ).scalar_one()
    if served != SPENT_USES or uses != SPENT_USES or set(refused) != {"exhausted"}:
        problems.append(
            f"{SPENT_ATTEMPTS} inquiries at once under a grant of {SPENT_USES} uses: {served} "
            f"served, refused {dict(refused)}, the grant counts {uses} uses"
        )
    return served, refused, int(uses)


def _revocation_round(
    clients: _Clients, number: int, problems: list[str]
) -> list[tuple[int, float]]:
    """Revoke through one process while both serve a stream of inquiries under the grant;
    returns the ``(status, seconds after the revocation was acknowledged)`` of every inquiry
    sent after it."""
    one, other = clients.pair(number)
    approved = _approved(clients, number, STREAM_USES)
    inquiry, bank = approved.inquiry, approved.bank
    revocation = {"second_factor": approved.step_up.proof("revoke", approved.grant)}
    revoked_at: list[float] = []
    sent: list[tuple[float, int]] = []

    give_up = time.time() + 30

    def stream(client: httpx.Client) -> None:
        # Each inquiry on a connection of its own: the workers of a gateway all receive some.
        with httpx.Client(base_url=str(client.base_url), limits=NO_KEEPALIVE) as own:
            while time.time() < (revoked_at[0] + AFTER_REVOKE if revoked_at else give_up):
                started = time.time()
                status = own.post("/v1/inquiries/authorized", json=inquiry, headers=bank)
                sent.append((started, status.status_code))
                time.sleep(PACE)

    threads = [threading.Thread(target=stream, args=(c,)) for c in (clients.a, clients.b)]
    for thread in threads:
        thread.start()
    time.sleep(BEFORE_REVOKE)
    one.post(
        f"/v1/me/consents/{approved.grant}/revoke", json=revocation, headers=approved.citizen
    ).raise_for_status()
    revoked_at.append(time.time())
    next_one = other.post("/v1/inquiries/authorized", json=inquiry, headers=bank)
    for thread in threads:
        thread.join()
    if next_one.status_code != 403 or next_one.json().get("reason") != "revoked":
        problems.append(f"round {number}: the other process answered {next_one.status_code}")
    after = [
        (status, started - revoked_at[0]) for started, status in sent if started > revoked_at[0]
    ]
    served = [delay for status, delay in after if status == 200]
    if served:
        problems.append(f"round {number}: served {len(served)} inquiries sent after the revocation")
    return after


def _revoked_token(clients: _Clients, problems: list[str]) -> bool:
    """An access token revoked at one process is refused by the other at once: on a route it
    never sent there, and on an inquiry route where the other had verified it before (there
    the inquiry's own read checks the revocation)."""
    token = clients.token("establishment", clients.a)
    headers = {"Authorization": f"Bearer {token}"}
    citizen = demo_citizen(clients.credentials)
    inquiry = authorized_inquiry(citizen, "cg_none")
    before = clients.b.post("/v1/inquiries/authorized", json=inquiry, headers=headers).status_code
    form = {"token": token, **clients.assertion("establishment")}
    clients.a.post("/oauth/revoke", data=form).raise_for_status()
    body = consent_request(citizen, 1)
    status = clients.b.post("/v1/consent-requests", json=body, headers=headers).status_code
    if status != 401:
        problems.append(f"a token revoked at a was answered {status} by b")
    inquired = clients.b.post("/v1/inquiries/authorized", json=inquiry, headers=headers)
    if before == 401 or inquired.status_code != 401:
        problems.append(
            f"an inquiry with a token revoked at a was answered {inquired.status_code} by b"
            f" ({before} before the revocation)"
        )
    return status == 401 and inquired.status_code == 401 and before != 401


def _replayed_assertion(clients: _Clients, problems: list[str]) -> bool:
    """A client assertion accepted at one process is refused when replayed at the other."""
    form = {"grant_type": "client_credentials", **clients.assertion("agency")}
    clients.a.post("/oauth/token", data=form).raise_for_status()
    status = clients.b.post("/oauth/token", data=form).status_code
    if status != 401:
        problems.append(f"an assertion used at a was answered {status} when replayed at b")
    return status == 401


def _yes(holds: bool) -> str:
    return "yes" if holds else "NO"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__)
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="PostgreSQL; a fresh schema is made there and dropped afterwards",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/14",
        help="Redis database to use - it is EMPTIED first",
    )
    parser.add_argument("--duration", type=float, default=30, help="seconds of mixed load (30)")
    parser.add_argument("--workers", type=int, default=6, help="load threads (6)")
    parser.add_argument("--revocations", type=int, default=10, help="revocation rounds (10)")
    parser.add_argument(
        "--gateway-workers",
        type=int,
        default=1,
        help="worker processes of each gateway (GATEWAY_WORKERS, 1)",
    )
    arguments = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="gateway-scaleout-") as scratch,
        scratch_database(arguments.database_url) as database_url,
    ):
        assert database_url is not None
        report = scaleout(
            Path(scratch),
            database_url=database_url,
            redis_url=arguments.redis_url,
            duration=arguments.duration,
            workers=arguments.workers,
            revocations=arguments.revocations,
            gateway_workers=arguments.gateway_workers,
        )
    print(report.text())
    print(f"\nresults: {write_report('scaleout', report)}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
