"""The demo province's archive (Art. 27, 35, 37, 41, 62 para. 2, 63): what the demo providing
unit submits about the demo subjects, through the path every providing unit takes.

Per subject, :func:`redaction.demo.demo_records` (records cycling through the catalog items
for the subject's kind, every field filled) becomes submissions: untrustworthiness items carry
their basis document (Art. 27), restricted items a written-consent reference (Art. 62 para. 2).
The record :func:`~redaction.demo.demo_records` gives a history arrives with a wrong date of
conduct and is then corrected with its reason (Art. 63); the first other untrustworthiness
record was decided so that its display period ends a week after seeding (Art. 41). Seeding is
idempotent: provider record ids already held are left alone, each change is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from gateway.archive.repository import first_versions
from gateway.archive.service import (
    ArchiveDesk,
    Correction,
    SubmissionOutcome,
    archive_catalog,
    correct_record,
    latest_start_ended,
    submit_records,
)
from gateway.archive.written_consents import DocumentRegistration, register_document
from gateway.audit_log.service import AuditLog
from gateway.keys import GatewayKeys
from gateway.storage.db import unit_of_work
from redaction.catalog import Catalog, CatalogItem, Category
from redaction.demo import demo_records
from redaction.identifiers import SubjectIdentifier
from redaction.ingest import BasisDocument, BasisKind, RecordSubmission, SubjectReference
from redaction.records import CreditRecord

DISPLAY_LEFT = timedelta(days=7)
WRONG_DATE_BY = timedelta(days=30)
BASIS_ISSUER = "示范市中级人民法院"


@dataclass(frozen=True)
class DemoRecord:
    submission: RecordSubmission
    correction: Correction | None = None


def demo_archive(
    catalog: Catalog, subjects: Sequence[SubjectIdentifier], today: date
) -> list[DemoRecord]:
    """The demo records of every subject; the ids depend on the subject's position only."""
    return [
        entry
        for number, subject in enumerate(subjects)
        for entry in _subject_archive(catalog, number, subject, today)
    ]


def _subject_archive(
    catalog: Catalog, number: int, subject: SubjectIdentifier, today: date
) -> list[DemoRecord]:
    records = demo_records(catalog, subject, today=today)
    ending = next(
        index
        for index, record in enumerate(records)
        if catalog.item(record.item_code).category is Category.UNTRUSTWORTHY and not record.history
    )
    return [
        _entry(
            catalog.item(record.item_code),
            f"demo-s{number}-{index:04d}",
            subject,
            _display_ending(catalog, record, today) if index == ending else record,
        )
        for index, record in enumerate(records)
    ]


def _display_ending(catalog: Catalog, record: CreditRecord, today: date) -> CreditRecord:
    """The record decided so that its display period ends :data:`DISPLAY_LEFT` from today."""
    period = catalog.item(record.item_code).display_period
    decided_on = latest_start_ended(period, today + DISPLAY_LEFT)
    return replace(record, occurred_on=decided_on, decided_on=decided_on)


def _entry(
    item: CatalogItem, provider_record_id: str, subject: SubjectIdentifier, record: CreditRecord
) -> DemoRecord:
    first = record.history[0] if record.history else record
    decided_on = first.decided_on or first.occurred_on
    submission = RecordSubmission(
        provider_record_id=provider_record_id,
        subject=SubjectReference(subject.kind, subject.value),
        item_code=item.code,
        fields=first.fields,
        occurred_on=first.occurred_on - (WRONG_DATE_BY if record.history else timedelta()),
        decided_on=decided_on,
        basis=_basis(provider_record_id, decided_on)
        if item.category is Category.UNTRUSTWORTHY
        else None,
        written_consent_ref=f"wc-{provider_record_id}" if item.restricted else None,
    )
    if not record.history:
        return DemoRecord(submission)
    correction = Correction(
        reason=record.change_reason or "依据复核决定更正",
        fields=record.fields,
        occurred_on=record.occurred_on,
    )
    return DemoRecord(submission, correction)


def _basis(provider_record_id: str, issued_on: date) -> BasisDocument:
    number = f"（{issued_on.year}）示01执{provider_record_id}号"
    return BasisDocument(BasisKind.RULING, number, BASIS_ISSUER, issued_on)


def seed_archive(
    engine: Engine,
    audit_log: AuditLog,
    keys: GatewayKeys,
    provider: str,
    records: Sequence[DemoRecord],
    now: datetime,
) -> int:
    """Register the written consents of the records not held yet, submit those records (one
    unit of work), then their corrections (one each, so that every change is logged before its
    write); returns how many were submitted."""
    with unit_of_work(engine) as session:
        ids = [entry.submission.provider_record_id for entry in records]
        held = first_versions(session, provider, ids)
    fresh = [entry for entry in records if entry.submission.provider_record_id not in held]
    for registration in _written_consents(fresh):
        with unit_of_work(engine) as session:
            register_document(ArchiveDesk(session, audit_log, keys, now), provider, registration)
    with unit_of_work(engine) as session:
        desk = ArchiveDesk(session, audit_log, keys, now)
        results = submit_records(desk, provider, [entry.submission for entry in fresh])
    for entry, result in zip(fresh, results, strict=True):
        if result.outcome is not SubmissionOutcome.ACCEPTED or result.record_id is None:
            raise result.problem or RuntimeError("a demo record was not accepted")
        if entry.correction is not None:
            with unit_of_work(engine) as session:
                desk = ArchiveDesk(session, audit_log, keys, now)
                correct_record(desk, provider, result.record_id, entry.correction)
    return len(fresh)


def _written_consents(records: Sequence[DemoRecord]) -> list[DocumentRegistration]:
    """The signed written consents the demo unit holds for its restricted records (Art. 62
    para. 2): registered first, one unit of work each (each is logged before its write), so
    that every record's reference resolves."""
    return [
        DocumentRegistration(
            submission.written_consent_ref,
            submission.subject,
            archive_catalog().item(submission.item_code).scope_category.value,
            submission.occurred_on,
        )
        for submission in (entry.submission for entry in records)
        if submission.written_consent_ref is not None
    ]
