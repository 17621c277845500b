"""The load generator of the proof runs: mixed traffic from a process of its own.

``python -m bench.load PLAN.json JOURNAL.jsonl`` runs a :class:`Plan`: ``workers`` threads,
each with keep-alive ``httpx`` clients, play every scenario once and then scenarios drawn by
weight until the duration ends or the stop file appears, spreading requests over every gateway
URL of the plan. Every exchange is one line of the journal (:class:`Exchange`), written as
soon as the answer arrives, so the orchestrator can read what was acknowledged while the load
still runs - and while a gateway is dead: a request that got no answer is journaled with
status 0 and the scenario starts over.

Scenarios (:data:`SCENARIOS`), all through the public API as the demo personas:

* ``churn`` - consent churn with authorized inquiries: the establishment asks, the citizen
  approves, inquiries under the grant; sometimes a pause (the next inquiry must be refused)
  and a resume; the citizen revokes, and the next inquiry must be refused;
* ``sharing``, ``authority`` - the agency's two channels; ``self`` - the citizen's own report;
  ``public`` - an anonymous lookup of a demo legal person;
* ``ingest`` - the providing unit submits a batch about a fresh subject, then corrects a record;
* ``access_log`` - the citizen reads who looked (Art. 63); ``audit`` - anyone fetches the latest
  checkpoint and an inclusion proof in it.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.passkey import SoftPasskey
from gateway.archive.service import archive_catalog
from gateway.demo import client_assertion, demo_id_number
from redaction.demo import SAMPLE_VALUES

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_REFRESH = 240.0  # seconds; access tokens live 300
PURPOSE = "post_loan_management"
CATEGORIES = ["basic", "untrustworthy"]
INQUIRIES_PER_GRANT = 3
CASE_REFERENCE = "（2025）示0102行初12号"
INGEST_ITEMS = ("professional_qualification", "honour_award", "volunteer_service")
CORRECTION_REASON = "依据复核决定更正"
RECORD_PREFIX = "load-"
"""The prefix of every ``provider_record_id`` the load submits."""
INTERRUPTED = 0
"""The status journaled for a request that got no answer (the gateway was down)."""

DEFAULT_MIX: Mapping[str, int] = {
    "churn": 4,
    "sharing": 2,
    "authority": 2,
    "self": 2,
    "public": 2,
    "ingest": 2,
    "access_log": 1,
    "audit": 1,
}


@dataclass(frozen=True)
class Plan:
    """What the load process does; ``credentials`` is the province's credentials file."""

    urls: list[str]
    credentials: dict[str, Any]
    duration: float
    workers: int = 6
    mix: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MIX))
    think: float = 0.01
    seed: int = 0
    stop_file: str | None = None
    at_least: int = 0  # exchanges: the run goes on past ``duration`` until this many


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as journaled. ``status`` 0: no answer (the gateway was
    down); ``leaf``: the audit receipt of an answered inquiry; ``grant``/``state``: a consent
    decision and the state it asked for; ``records``/``record``/``version``: archive writes."""

    op: str
    status: int
    expected: list[int]
    started: float
    ms: float
    via: int
    leaf: tuple[int, str] | None = None
    grant: str | None = None
    state: str | None = None
    reason: str | None = None
    records: list[str] | None = None
    record: str | None = None
    version: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in self.expected and self.error is None

    @property
    def interrupted(self) -> bool:
        return self.status == INTERRUPTED


def read_journal(path: Path) -> list[Exchange]:
    """Every complete line of a journal (the last may be half-written while the load runs)."""
    exchanges = []
    for line in path.read_text().splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        leaf = document.pop("leaf", None)
        exchanges.append(Exchange(**document, leaf=(leaf[0], leaf[1]) if leaf else None))
    return exchanges


@dataclass(frozen=True)
class Latency:
    """How many exchanges, how many went wrong, and their p50 / p99 in milliseconds."""

    count: int
    errors: int
    p50_ms: float
    p99_ms: float

    @classmethod
    def of(cls, exchanges: Sequence[Exchange]) -> Latency:
        answered = sorted(e.ms for e in exchanges if not e.interrupted)
        errors = sum(1 for e in exchanges if not e.ok and not e.interrupted)
        return cls(len(exchanges), errors, percentile(answered, 0.5), percentile(answered, 0.99))


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values (0 for none)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def start_load(
    plan: Plan, directory: Path, name: str = "load"
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start the load process; returns it and the journal it writes."""
    plan_file = directory / f"{name}-plan.json"
    plan_file.write_text(json.dumps(asdict(plan)))
    journal = directory / f"{name}.jsonl"
    journal.touch()
    with (directory / f"{name}.log").open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.load", str(plan_file), str(journal)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return process, journal


def run_load(plan: Plan, directory: Path, name: str = "load") -> list[Exchange]:
    """Run the load process to its end and read its journal."""
    process, journal = start_load(plan, directory, name)
    if process.wait() != 0:
        raise RuntimeError(f"the load process failed; see {directory / f'{name}.log'}")
    return read_journal(journal)


# -- the load process ----------------------------------------------------------------------


class Journal:
    """The journal file, one line per exchange, flushed at once; shared by the workers."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.count = 0

    def write(self, exchange: Exchange) -> None:
        document = {k: v for k, v in asdict(exchange).items() if v is not None}
        line = json.dumps(document, ensure_ascii=False) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
            self.count += 1

    def close(self) -> None:
        self._file.close()


class Interrupted(Exception):
    """The gateway did not answer; the scenario cannot go on."""


class Unexpected(Exception):
    """The gateway answered what the scenario did not expect; it cannot go on."""


class Worker:
    """One simulated client population: keep-alive clients, tokens, a random stream."""

    def __init__(self, plan: Plan, journal: Journal, number: int) -> None:
        self.plan = plan
        self.journal = journal
        self.random = random.Random(plan.seed * 1000 + number)
        self.clients = [httpx.Client(base_url=url, timeout=60) for url in plan.urls]
        self.tokens: dict[str, tuple[str, float]] = {}
        self.credentials = plan.credentials
        citizen = plan.credentials["citizen"]
        self.passkey = SoftPasskey.from_json(plan.credentials["base_url"], citizen["passkey"])

    def close(self) -> None:
        for client in self.clients:
            client.close()

    # -- requests ---------------------------------------------------------------------

    def call(
        self,
        op: str,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (200,),
        persona: str | None = None,
        body: object = None,
        form: Mapping[str, str] | None = None,
        reason: str | None = None,
        bearer: str | None = None,
        **note: Any,
    ) -> httpx.Response:
        """Send one request to a gateway drawn at random and journal it. A refusal must name
        ``reason``; an inquiry answered 200 must carry its audit receipt, which is journaled.
        ``bearer``: this access token rather than the persona's current one."""
        token = bearer or (self.token(persona) if persona else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        via = self.random.randrange(len(self.clients))
        started, clock = time.time(), time.perf_counter()
        try:
            response = self.clients[via].request(
                method, path, headers=headers, json=body, data=form
            )
        except httpx.TransportError as exc:
            note["error"] = repr(exc)
            self._journal(op, INTERRUPTED, expect, started, clock, via, note)
            raise Interrupted from exc
        if reason is not None:
            note["reason"] = reason
        note.update(_verdict(op, response, expect, reason))
        self._journal(op, response.status_code, expect, started, clock, via, note)
        if "error" in note:
            raise Unexpected(op)
        return response

    def _journal(
        self,
        op: str,
        status: int,
        expect: tuple[int, ...],
        started: float,
        clock: float,
        via: int,
        note: Mapping[str, Any],
    ) -> None:
        elapsed = (time.perf_counter() - clock) * 1000
        self.journal.write(Exchange(op, status, list(expect), started, elapsed, via, **note))

    def inquiry(self, op: str, path: str, body: object = None, **note: Any) -> None:
        """An inquiry that must be answered (200, with its audit receipt)."""
        method = "GET" if body is None else "POST"
        self.call(op, method, path, persona=_INQUIRERS[op], body=body, **note)

    def token(self, persona: str) -> str:
        cached = self.tokens.get(persona)
        if cached is None or time.monotonic() - cached[1] > TOKEN_REFRESH:
            self.tokens[persona] = (self._fresh_token(persona), time.monotonic())
            cached = self.tokens[persona]
        return cached[0]

    def _fresh_token(self, persona: str) -> str:
        path, form = token_request(self.credentials, persona)
        op = "sign_in" if persona == "citizen" else "token"
        token: str = self.call(op, "POST", path, form=form).json()["access_token"]
        return token

    # -- what the requests are about ----------------------------------------------------

    @property
    def citizen(self) -> dict[str, str]:
        return demo_citizen(self.credentials)

    def fresh_subject(self) -> dict[str, str]:
        born = date(1950, 1, 1) + timedelta(days=self.random.randrange(18000))
        number = demo_id_number(
            "320102", born.strftime("%Y%m%d"), f"{self.random.randrange(1000):03d}"
        )
        return {"kind": "id_number", "value": number}


def demo_citizen(credentials: Mapping[str, Any]) -> dict[str, str]:
    """The demo citizen of the credentials file, as a request names its subject."""
    return {"kind": "id_number", "value": credentials["citizen"]["id_number"]}


def consent_request(subject: dict[str, str], max_uses: int) -> dict[str, Any]:
    """An establishment's consent request about ``subject``: the run's purpose and categories,
    for 30 days."""
    return {
        "subject": subject,
        "purpose": PURPOSE,
        "categories": CATEGORIES,
        "validity_days": 30,
        "max_uses": max_uses,
    }


def authorized_inquiry(subject: dict[str, str], grant_id: str) -> dict[str, Any]:
    """An authorized inquiry about ``subject`` under the grant, for its purpose and categories."""
    return {"grant_id": grant_id, "subject": subject, "purpose": PURPOSE, "categories": CATEGORIES}


def token_request(credentials: Mapping[str, Any], persona: str) -> tuple[str, dict[str, str]]:
    """The path and form that get ``persona`` of the credentials file a fresh access token:
    the citizen signs in, the parties authenticate with ``private_key_jwt`` (RFC 7523)."""
    if persona == "citizen":
        citizen = credentials["citizen"]
        return "/v1/me/token", {"username": citizen["username"], "password": citizen["password"]}
    audience = f"{credentials['base_url']}/oauth/token"
    return "/oauth/token", {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(credentials[persona], audience),
    }


_INQUIRERS: Mapping[str, str | None] = {
    "authorized": "establishment",
    "sharing": "agency",
    "authority": "agency",
    "self": "citizen",
    "public": None,
}


def _verdict(
    op: str, response: httpx.Response, expect: tuple[int, ...], reason: str | None
) -> dict[str, Any]:
    """What to journal of an answer: the audit receipt of an inquiry served, or the error."""
    if response.status_code not in expect:
        return {"error": response.text[:300]}
    if reason is not None and response.json().get("reason") != reason:
        return {"error": f"refused for {response.json().get('reason')!r}, not {reason!r}"}
    if op in _INQUIRERS and response.status_code == 200:
        receipt = response.json().get("audit") or {}
        if "leaf_index" not in receipt:
            return {"error": "an inquiry answered without its audit receipt"}
        return {"leaf": (receipt["leaf_index"], receipt["leaf_hash"])}
    return {}


# -- scenarios ------------------------------------------------------------------------------


def churn(worker: Worker) -> None:
    """Ask, approve, inquire; maybe pause, be refused, resume; revoke, be refused."""
    request = consent_request(worker.citizen, INQUIRIES_PER_GRANT + 2)
    created = worker.call(
        "consent.request",
        "POST",
        "/v1/consent-requests",
        expect=(201,),
        persona="establishment",
        body=request,
    )
    grant: str = created.json()["grant_id"]
    _decide(worker, grant, "approve", "active", {"categories": CATEGORIES})
    inquiry = authorized_inquiry(worker.citizen, grant)
    for _ in range(INQUIRIES_PER_GRANT):
        worker.inquiry("authorized", "/v1/inquiries/authorized", inquiry, grant=grant)
    if worker.random.random() < 0.3:
        _decide(worker, grant, "pause", "paused")
        _refused(worker, inquiry, grant, "paused")
        _decide(worker, grant, "resume", "active")
        worker.inquiry("authorized", "/v1/inquiries/authorized", inquiry, grant=grant)
    _decide(worker, grant, "revoke", "revoked")
    _refused(worker, inquiry, grant, "revoked")


def _decide(
    worker: Worker, grant: str, action: str, state: str, body: dict[str, Any] | None = None
) -> None:
    """The citizen's decision; all but a pause with a passkey proof for it, obtained with the
    same access token (a proof is bound to it)."""
    path = f"/v1/me/consents/{grant}/{action}"
    bearer = worker.token("citizen")
    if action != "pause":
        body = {**(body or {}), "second_factor": _second_factor(worker, bearer, grant, action)}
    worker.call(
        f"consent.{action}", "POST", path, bearer=bearer, body=body, grant=grant, state=state
    )


def _second_factor(worker: Worker, bearer: str, grant: str, action: str) -> str:
    decision = {"action": action, "grant_id": grant}
    challenges = "/v1/me/second-factor/challenges"
    ceremony = worker.call(
        "second_factor.challenge", "POST", challenges, bearer=bearer, body=decision
    ).json()
    assertion = {
        "challenge": ceremony["challenge"],
        "credential": worker.passkey.get(ceremony["options"]),
    }
    proofs = "/v1/me/second-factor/proofs"
    verified = worker.call(
        "second_factor.proof",
        "POST",
        proofs,
        bearer=bearer,
        body={**decision, "passkey": assertion},
    )
    proof: str = verified.json()["second_factor"]
    return proof


def _refused(worker: Worker, inquiry: object, grant: str, reason: str) -> None:
    """The inquiry must be refused for ``reason``: a 200 here is one inquiry served too many."""
    worker.call(
        "authorized.refused",
        "POST",
        "/v1/inquiries/authorized",
        expect=(403,),
        persona="establishment",
        body=inquiry,
        grant=grant,
        reason=reason,
    )


def sharing(worker: Worker) -> None:
    body = {"subject": worker.citizen, "categories": ["basic"], "duty": "市场监管执法检查"}
    worker.inquiry("sharing", "/v1/inquiries/sharing", body)


def authority(worker: Worker) -> None:
    body = {
        "subject": worker.citizen,
        "legal_basis": worker.credentials["agency"]["legal_bases"][0],
        "case_reference": CASE_REFERENCE,
    }
    worker.inquiry("authority", "/v1/inquiries/authority", body)


def own_report(worker: Worker) -> None:
    worker.inquiry("self", "/v1/me/credit-report")


def public(worker: Worker) -> None:
    code = worker.random.choice(worker.credentials["subjects"]["legal_persons"])
    worker.inquiry("public", f"/v1/public/credit-subjects/{code}")


def ingest(worker: Worker) -> None:
    """A batch about a fresh subject, every record accepted; then one record corrected."""
    subject = worker.fresh_subject()
    today = datetime.now(UTC).date()
    records = [
        {
            "provider_record_id": f"{RECORD_PREFIX}{uuid.uuid4().hex}",
            "subject": subject,
            "item_code": item,
            "fields": _fields(item),
            "occurred_on": (today - timedelta(days=30)).isoformat(),
        }
        for item in INGEST_ITEMS
    ]
    answer = worker.call(
        "records.submit",
        "POST",
        "/v1/records",
        persona="provider",
        body={"records": records},
        records=[record["provider_record_id"] for record in records],
    ).json()
    if answer["accepted"] != len(records):
        raise Unexpected(f"records not all accepted: {answer['results']}")
    first = answer["results"][0]["record_id"]
    correction = {"reason": CORRECTION_REASON, "fields": _fields(INGEST_ITEMS[0], corrected=True)}
    worker.call(
        "records.correct",
        "POST",
        f"/v1/records/{first}/corrections",
        persona="provider",
        body=correction,
        record=first,
        version=2,
    )


def _fields(item_code: str, *, corrected: bool = False) -> dict[str, str]:
    item = archive_catalog().item(item_code)
    fields = {spec.name: SAMPLE_VALUES[spec.type] for spec in item.fields}
    if corrected:
        name = item.fields[0].name
        fields[name] = f"{fields[name]}（更正）"
    return fields


def access_log(worker: Worker) -> None:
    worker.call("access_log", "GET", "/v1/me/access-log?limit=20", persona="citizen")


def audit(worker: Worker) -> None:
    note = worker.call("audit.checkpoint", "GET", "/v1/audit/checkpoint").text
    size = int(note.splitlines()[1])
    if size:
        index = worker.random.randrange(size)
        path = f"/v1/audit/proofs/inclusion?index={index}&tree_size={size}"
        worker.call("audit.proof", "GET", path)


SCENARIOS: Mapping[str, Callable[[Worker], None]] = {
    "churn": churn,
    "sharing": sharing,
    "authority": authority,
    "self": own_report,
    "public": public,
    "ingest": ingest,
    "access_log": access_log,
    "audit": audit,
}


def _work(plan: Plan, journal: Journal, number: int, deadline: float) -> None:
    """Play every scenario of the mix once (so that even a short run has them all), then
    scenarios drawn by weight, until the deadline (and ``plan.at_least`` exchanges) or the stop
    file."""
    worker = Worker(plan, journal, number)
    names = list(plan.mix)
    weights = [plan.mix[name] for name in names]
    first_pass = iter(names)
    stop = Path(plan.stop_file) if plan.stop_file else None
    try:
        while not (stop and stop.exists()) and (
            time.monotonic() < deadline or journal.count < plan.at_least
        ):
            name = next(first_pass, None) or worker.random.choices(names, weights)[0]
            scenario = SCENARIOS[name]
            try:
                scenario(worker)
            except Interrupted:  # the gateway is down: its tokens stay valid after a restart
                time.sleep(0.1)
            except Unexpected:
                pass  # journaled; the next scenario starts afresh
            time.sleep(worker.random.uniform(0, 2 * plan.think))
    finally:
        worker.close()


def main(plan_file: Path, journal_file: Path) -> None:
    document = json.loads(plan_file.read_text())
    plan = Plan(**document)
    journal = Journal(journal_file)
    deadline = time.monotonic() + plan.duration
    threads = [
        threading.Thread(target=_work, args=(plan, journal, number, deadline))
        for number in range(plan.workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
