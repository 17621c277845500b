"""Inquiry latency at scale (MISSION target): 1M subjects, consents and records vs 1k.

* ``inquiry.scale.p50`` / ``inquiry.scale.p99`` - the p50 / p99 latency of
  ``POST /v1/inquiries/authorized`` on a province holding ``large`` credit subjects, each with
  a record (and its version) and an active consent grant of the demo establishment, as a
  multiple of the same latency on a province holding 1k; target <= 1.3.

Both provinces are seeded like ``make run`` seeds one (SQLite), then filled by
:func:`bulk_load` behind a progress bar: per subject, its archive index row, a record and the
record's version cloned from a demo record the archive stored, and an active grant cloned from
one :func:`~gateway.consents.repository.to_row` built - each with the subject's own
identifier, subject key and pseudonym - written with Core ``executemany`` in 10k-subject
transactions (about 2.5 minutes for 1M subjects, 4M rows). Both are served at once by
``gateway serve`` (same settings), and one load process sends the same kind of inquiry to each
in turn - an authorized inquiry about a random loaded subject under its own grant, one at a
time, the order of the two drawn per round - so both see the same machine at the same moment.
The absolute figures are printed under the table.

``--quick`` compares 1k with 100k subjects; the full run 1k with 1M.
``BENCH_SCALE_LARGE=N`` (``make bench SCALE=N``) sets the large size.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import typer
from sqlalchemy import Engine, insert, select

from bench import Context, Measurement, benchmark
from bench.harness import Province
from bench.load import ASSERTION_TYPE, CATEGORIES, PURPOSE, percentile
from consent.grants import Grant, GrantState, SubjectKind
from gateway.archive.models import CreditSubject, RecordRow, RecordVersionRow
from gateway.audit_log.models import table
from gateway.consents.models import GrantRow
from gateway.consents.repository import to_row
from gateway.demo import client_assertion, demo_id_number
from gateway.keys import GatewayKeys, load_keys
from gateway.subjects import requester_pseudonym, subject_key
from redaction.identifiers import IdentifierKind, SubjectIdentifier

SMALL = 1_000
LARGE, QUICK_LARGE = 1_000_000, 100_000
INQUIRIES, QUICK_INQUIRIES = 1_000, 400
WARMUP = 50
BATCH = 10_000
TEMPLATE_ITEM = "administrative_penalty"
"""The item every bulk record copies: an untrustworthiness item the grants cover."""
SUBJECTS, RECORDS, VERSIONS = table(CreditSubject), table(RecordRow), table(RecordVersionRow)
GRANTS = table(GrantRow)
TABLES = (SUBJECTS, RECORDS, VERSIONS, GRANTS)


# -- the bulk loader -----------------------------------------------------------------------


def identifier(number: int) -> SubjectIdentifier:
    """The ``number``-th bulk subject: a valid ID number, unique per number below 10M."""
    born = date(1950, 1, 1) + timedelta(days=number // 1000)
    value = demo_id_number("320103", born.strftime("%Y%m%d"), f"{number % 1000:03d}")
    return SubjectIdentifier(IdentifierKind.ID_NUMBER, value)


@dataclass(frozen=True)
class Templates:
    """One row of each kind as the gateway's own code writes it, to clone per subject."""

    subject: dict[str, Any]
    record: dict[str, Any]
    version: dict[str, Any]
    grant: dict[str, Any]
    requester: str


def templates(engine: Engine, requester: str, now: datetime) -> Templates:
    with engine.connect() as connection:
        record = connection.execute(
            select(RECORDS).where(RECORDS.c.item_code == TEMPLATE_ITEM, RECORDS.c.version == 1)
        ).first()
        assert record is not None, f"the demo archive holds no {TEMPLATE_ITEM} record"
        version = connection.execute(
            select(VERSIONS).where(VERSIONS.c.record_id == record.record_id)
        ).one()
        subject = connection.execute(
            select(SUBJECTS).where(SUBJECTS.c.subject_key == record.subject_key)
        ).one()
    grant = Grant(
        grant_id="template",
        requester=requester,
        subject_key="template",
        subject_kind=SubjectKind.NATURAL_PERSON,
        purpose=PURPOSE,
        requested_categories=frozenset(CATEGORIES),
        validity_days=365,
        max_uses=12,
        requested_at=now,
        pending_until=now + timedelta(days=7),
        state=GrantState.ACTIVE,
        granted_categories=frozenset(CATEGORIES),
        not_before=now - timedelta(minutes=1),
        expires_at=now + timedelta(days=365),
    )
    row = to_row(grant, "template").model_dump()
    return Templates(
        {**subject._mapping, "created_at": now},
        dict(record._mapping),
        {**version._mapping, "leaf_index": None},
        row,
        requester,
    )


def bulk_load(province: Province, count: int, label: str) -> None:
    """Add ``count`` subjects, each with a record, its version and an active grant."""
    now = datetime.now(UTC)
    engine = province.engine()
    keys = load_keys(province.settings)
    requester = province.credentials["establishment"]["client_id"]
    template = templates(engine, requester, now)
    with (
        typer.progressbar(length=count, label=label, file=sys.stderr) as progress,
        engine.connect() as connection,
    ):
        for start in range(0, count, BATCH):
            numbers = range(start, min(start + BATCH, count))
            rows = list(_rows(template, [identifier(n) for n in numbers], keys))
            with connection.begin():
                for target, batch in zip(TABLES, zip(*rows, strict=True), strict=True):
                    connection.execute(insert(target), list(batch))
            progress.update(len(numbers))
    engine.dispose()


def _rows(
    template: Templates, subjects: list[SubjectIdentifier], keys: GatewayKeys
) -> Iterator[tuple[dict[str, Any], ...]]:
    """Per subject: its archive index row, a record, the record's version and a grant."""
    for subject in subjects:
        key = subject_key(keys, subject)
        record_id = f"rec_{uuid.uuid4().hex}"
        yield (
            {**template.subject, "subject_key": key, "identifier_value": subject.value},
            {
                **template.record,
                "record_id": record_id,
                "provider_record_id": f"bulk-{subject.value}",
                "subject_key": key,
            },
            {**template.version, "record_id": record_id},
            {
                **template.grant,
                "grant_id": grant_id(subject),
                "subject_key": key,
                "subject_pseudonym": requester_pseudonym(keys, template.requester, subject),
            },
        )


def grant_id(subject: SubjectIdentifier) -> str:
    return f"cg_bulk-{subject.value}"


# -- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One gateway to measure: its URL, its province's credentials, the inquiries to send."""

    url: str
    credentials: dict[str, Any]
    bodies: list[dict[str, Any]]


def inquiries(count: int, loaded: int, seed: int) -> list[dict[str, Any]]:
    """Authorized inquiries about distinct random loaded subjects (while there are enough)."""
    chance = random.Random(seed)
    numbers = chance.sample(range(loaded), min(count, loaded))
    numbers += [chance.randrange(loaded) for _ in range(count - len(numbers))]
    return [
        {
            "grant_id": grant_id(identifier(n)),
            "subject": {"kind": "id_number", "value": identifier(n).value},
            "purpose": PURPOSE,
            "categories": CATEGORIES,
        }
        for n in numbers
    ]


def drive(targets: list[Target], warmup: int, seed: int = 0) -> list[list[float]]:
    """One inquiry at a time, to each target in turn (the order drawn per round); the latencies
    in ms of each target's inquiries after the warm-up."""
    chance = random.Random(seed)
    clients = [_client(target) for target in targets]
    latencies: list[list[float]] = [[] for _ in targets]
    for turn in range(len(targets[0].bodies)):
        for side in chance.sample(range(len(targets)), len(targets)):
            body = targets[side].bodies[turn]
            started = time.perf_counter()
            response = clients[side].post("/v1/inquiries/authorized", json=body)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"inquiry answered {response.status_code}: {response.text}")
            if turn >= warmup:
                latencies[side].append(elapsed)
    for client in clients:
        client.close()
    return latencies


def _client(target: Target) -> httpx.Client:
    """A keep-alive client holding the establishment's access token."""
    client = httpx.Client(base_url=target.url, timeout=60)
    audience = f"{target.credentials['base_url']}/oauth/token"
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(target.credentials["establishment"], audience),
    }
    token = client.post("/oauth/token", data=form).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _drive_elsewhere(targets: list[Target], warmup: int, scratch: Path) -> list[list[float]]:
    """:func:`drive` in a process of its own (``python -m bench.scale PLAN.json``)."""
    plan = scratch / "scale-plan.json"
    plan.write_text(json.dumps({"targets": [asdict(t) for t in targets], "warmup": warmup}))
    output = subprocess.run(
        [sys.executable, "-m", "bench.scale", str(plan)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    latencies: list[list[float]] = json.loads(output)
    return latencies


@dataclass(frozen=True)
class Figures:
    subjects: int
    p50_ms: float
    p99_ms: float

    @classmethod
    def of(cls, subjects: int, latencies: list[float]) -> Figures:
        ordered = sorted(latencies)
        return cls(subjects, percentile(ordered, 0.5), percentile(ordered, 0.99))


@cache
def measured(quick: bool, scratch: Path) -> tuple[Figures, Figures]:
    """Load both provinces, serve both, drive both; (1k figures, large figures)."""
    large = int(os.environ.get("BENCH_SCALE_LARGE", QUICK_LARGE if quick else LARGE))
    count = QUICK_INQUIRIES if quick else INQUIRIES
    sizes = (SMALL, large)
    provinces = [Province.create(scratch / f"scale-{size}") for size in sizes]
    for province, size in zip(provinces, sizes, strict=True):
        started = time.monotonic()
        bulk_load(province, size, f"loading {size:,} subjects, records and grants")
        print(f"  loaded in {time.monotonic() - started:.0f} s", file=sys.stderr)
    gateways = [province.gateway().start() for province in provinces]
    try:
        targets = [
            Target(gateway.url, province.credentials, inquiries(WARMUP + count, size, seed))
            for seed, (gateway, province, size) in enumerate(
                zip(gateways, provinces, sizes, strict=True)
            )
        ]
        latencies = _drive_elsewhere(targets, WARMUP, scratch)
    finally:
        for gateway in gateways:
            gateway.stop()
    small, big = (Figures.of(size, ms) for size, ms in zip(sizes, latencies, strict=True))
    print(
        f"\ninquiry.scale: {count} authorized inquiries to each, one at a time, alternating\n"
        f"  {'subjects, records, grants':<28}{'p50 ms':>10}{'p99 ms':>10}\n"
        + "".join(
            f"  {figures.subjects:<28,}{figures.p50_ms:>10.1f}{figures.p99_ms:>10.1f}\n"
            for figures in (small, big)
        )
    )
    return small, big


def _scale(pick: Callable[[Figures], float]) -> Callable[[Context], Measurement]:
    def run(context: Context) -> Measurement:
        small, big = measured(context.quick, context.scratch)
        return Measurement(
            pick(big) / pick(small), 1.0, {"small": asdict(small), "large": asdict(big)}
        )

    return run


benchmark(
    "inquiry.scale.p50",
    unit="x 1k p50",
    target=1.3,
    higher_is_better=False,
    baseline="1k subjects (=1)",
)(_scale(lambda figures: figures.p50_ms))
benchmark(
    "inquiry.scale.p99",
    unit="x 1k p99",
    target=1.3,
    higher_is_better=False,
    baseline="1k subjects (=1)",
)(_scale(lambda figures: figures.p99_ms))


if __name__ == "__main__":
    # The load process: ``python -m bench.scale PLAN.json`` prints the latencies it measured.
    document = json.loads(Path(sys.argv[1]).read_text())
    measured_targets = [Target(**target) for target in document["targets"]]
    print(json.dumps(drive(measured_targets, document["warmup"])))
