"""Redaction throughput (Art. 39-41, 62): records/s through :func:`redaction.engine.render_view`.

The report is realistic: :func:`redaction.demo.demo_records`, 20 records about a natural person
cycling through the demo catalog's items (restricted ones included, every field filled, free
text with a phone number to mask, one record with a history, one under objection). It is
rendered for each channel of Art. 39 with a typical scope:

* ``public`` — anyone; personal data masked, the subject pseudonymized (HMAC-SHA256);
* ``sharing`` — a market-regulation agency's sharing scope;
* ``authority`` — a legal basis of basic and untrustworthiness information;
* ``self`` — the subject: everything, with the history;
* ``authorized`` — a consent to basic, untrustworthiness and income information, with the
  written consent income needs.

Baseline, the same run: serializing the same 20-record report to JSON (``json.dumps`` of the
subject's own view, every record and version) — the least any endpoint serving the report
does. A ratio above 1 means redacting costs less than writing the answer out.
``--quick`` renders 300 reports per channel instead of 3,000.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache

from bench import Context, Measurement, benchmark
from redaction.catalog import Catalog, ScopeCategory, Sector, load_catalog
from redaction.demo import DEMO_ID_NUMBER, demo_records
from redaction.engine import render_view
from redaction.identifiers import SubjectIdentifier, parse_identifier
from redaction.periods import local_date
from redaction.policies import Access
from redaction.pseudonym import PseudonymKeys
from redaction.records import CreditRecord

AT = datetime(2026, 6, 1, 4, tzinfo=UTC)
KEYS = PseudonymKeys(b"bench-pseudonym-master-key-32-by", 1)
RECORDS_PER_REPORT = 20
TARGET = 20_000  # records/s: a 20-record report in at most 1 ms


@cache
def catalog() -> Catalog:
    return load_catalog()


@cache
def subject() -> SubjectIdentifier:
    return parse_identifier("id_number", DEMO_ID_NUMBER, on=local_date(AT))


@cache
def report() -> tuple[CreditRecord, ...]:
    return demo_records(catalog(), subject(), today=local_date(AT), count=RECORDS_PER_REPORT)


ACCESSES: dict[str, Callable[[SubjectIdentifier], Access]] = {
    "public": lambda person: Access.public("bench-anonymous", person),
    "sharing": lambda person: Access.sharing("bench-agency", person, Sector.MARKET_REGULATION),
    "authority": lambda person: Access.authority(
        "bench-agency", person, frozenset({ScopeCategory.BASIC, ScopeCategory.UNTRUSTWORTHY})
    ),
    "self": lambda person: Access.own("bench-citizen", person),
    "authorized": lambda person: Access.authorized(
        "bench-bank",
        person,
        frozenset({ScopeCategory.BASIC, ScopeCategory.UNTRUSTWORTHY, ScopeCategory.INCOME}),
        frozenset({ScopeCategory.INCOME}),
    ),
}


def reports(context: Context) -> int:
    return 300 if context.quick else 3_000


def records_per_second(run: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        run()
    return count * RECORDS_PER_REPORT / (time.perf_counter() - started)


def render(access: Access) -> Callable[[], object]:
    records, rules = report(), catalog()
    return lambda: render_view(records, access=access, catalog=rules, at=AT, pseudonym_keys=KEYS)


@cache
def serialization(count: int) -> float:
    """Records/s of ``json.dumps`` of the whole report (the subject's view), the baseline."""
    document = render_view(
        report(),
        access=Access.own("bench", subject()),
        catalog=catalog(),
        at=AT,
        pseudonym_keys=KEYS,
    ).to_document()
    return records_per_second(lambda: json.dumps(document, ensure_ascii=False), count)


def _register(channel: str) -> None:
    @benchmark(
        f"redaction.{channel}",
        unit="records/s",
        target=TARGET,
        higher_is_better=True,
        baseline="json.dumps of the report",
    )
    def run(context: Context) -> Measurement:
        count = reports(context)
        access = ACCESSES[channel](subject())
        render(access)()  # warm the catalog's and the masks' caches
        return Measurement(records_per_second(render(access), count), serialization(count))


for _channel in ACCESSES:
    _register(_channel)
