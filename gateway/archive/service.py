"""The credit archive as providing units change it and the channels read it (Art. 27, 34-37,
41, 61(3), 62-66).

* A providing unit submits records in batches (:func:`submit_records`). Each is checked by
  :func:`redaction.ingest.validate_submission` and is accepted, recognized as a replay of the
  same provider record id with the same content (unchanged), or refused with its problem — and
  nothing of a refused record is stored, not even its subject. The same id with other content is
  a conflict: changes go through :func:`correct_record`, which appends a version,
  :func:`revoke_record`, which applies an Art. 65 notice at once, and :func:`stop_record`
  (deleted after an objection, Art. 64; restored, Art. 66). Only the owner changes a record;
  for any other providing unit it does not exist.
* Every change is first appended to the audit log — durable before anything is written; the
  leaf holds the providing unit, the item's scope category, the kind of change and commitments
  to the subject and to the version's content, never either — then written in the request's
  unit of work, which commits (nothing here does). The log goes first because on SQLite a
  transaction that has written holds the database's only write lock, which the log's own
  transaction would then wait for.
* :func:`purge_past_retention` (for the scheduler and ``gateway archive purge``) empties the
  content of records whose retention period ended (Art. 41 para. 2); their leaves remain.
* :func:`view_for` is the read of the disclosure channels: the subject's records rendered by
  :func:`redaction.engine.render_view` for one :class:`~redaction.policies.Access`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache, partial

from sqlmodel import Session

from audit.leaf import AuditEvent, EventKind, Outcome
from gateway.archive.errors import ProviderRecordConflict, RecordNotActive, RecordNotFound
from gateway.archive.models import RecordRow
from gateway.archive.notes import Listing, note_responsible_persons
from gateway.archive.repository import (
    NewVersion,
    SqlCreditArchive,
    StoredRecord,
    VersionContent,
    add_records,
    add_subjects,
    add_version,
    first_versions,
    owned_record,
    past_retention,
    purge,
)
from gateway.archive.written_consent_repository import on_file
from gateway.audit_log.service import AuditLog, seal
from gateway.keys import GatewayKeys
from gateway.parties.repository import (
    SecondArchive,
    documents_of_indexed_persons,
    party_names,
)
from gateway.subjects import subject_key
from gateway.telemetry import SPAN_ARCHIVE, SPAN_REDACTION, tracer
from problems import GatewayError
from redaction.catalog import Catalog, ScopeCategory, load_catalog
from redaction.changes import (
    BasisChange,
    BasisStatus,
    basis_change_notice,
    check_revocable,
    checked_reason,
)
from redaction.engine import CreditView, render_view
from redaction.errors import RedactionError
from redaction.identifiers import SubjectIdentifier
from redaction.ingest import AcceptedRecord, BasisDocument, RecordSubmission, validate_submission
from redaction.periods import Period, local_date
from redaction.policies import Access
from redaction.records import RecordStatus
from redaction.written_consent import check_written_consent

SWEEP_LIMIT = 500
CONCURRENT_APPENDS = 32
RETENTION_JOB = "gateway/retention"


@cache
def archive_catalog() -> Catalog:
    """The catalog in force: the province's supplemental catalog (``redaction/catalog.yaml``)."""
    return load_catalog()


@dataclass(frozen=True)
class ArchiveDesk:
    """What one unit of work changes the archive with, and the instant it acts at."""

    session: Session
    audit_log: AuditLog
    keys: GatewayKeys
    now: datetime


class ChangeKind(StrEnum):
    """The reason code of a record's audit leaf."""

    SUBMITTED = "submitted"
    CORRECTED = "corrected"
    REVOKED = "revoked"
    DELETED = "deleted"
    RESTORED = "restored"
    PURGED = "purged"


class SubmissionOutcome(StrEnum):
    ACCEPTED = "accepted"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


@dataclass(frozen=True)
class SubmissionResult:
    """What became of one submitted record; a refusal carries its problem."""

    provider_record_id: str
    outcome: SubmissionOutcome
    record_id: str | None = None
    version: int | None = None
    problem: GatewayError | None = None


@dataclass(frozen=True)
class Correction:
    """New content for a record; dates, basis document and written-consent reference left out
    keep their current values. ``fields`` is the complete set of fields after the correction."""

    reason: str
    fields: Mapping[str, object]
    occurred_on: date | None = None
    decided_on: date | None = None
    basis: BasisDocument | None = None
    written_consent_ref: str | None = None


@dataclass(frozen=True)
class Revocation:
    """A providing unit's Art. 65 notice: what happened to the basis document, and when."""

    reason: str
    basis_status: BasisStatus
    basis_changed_on: date


@dataclass(frozen=True)
class RecordChange:
    """A record after a correction or revocation; ``changed`` False when it was a replay."""

    record_id: str
    provider_record_id: str
    version: int
    status: RecordStatus
    changed: bool


# -- providing units: submissions ----------------------------------------------------------


def submit_records(
    desk: ArchiveDesk, provider: str, submissions: Sequence[RecordSubmission]
) -> list[SubmissionResult]:
    """One result per submission, in order; accepted records are logged, then stored."""
    checked = _one_archive_per_person(
        desk.session, [_validated(desk, provider, submission) for submission in submissions]
    )
    ids = [entry.provider_record_id for entry in checked if isinstance(entry, AcceptedRecord)]
    batch = _Batch(desk, provider, _source(desk.session, provider))
    batch.known.update(first_versions(desk.session, provider, ids))
    results = [
        batch.result(entry)
        if isinstance(entry, AcceptedRecord)
        else SubmissionResult(
            submission.provider_record_id, SubmissionOutcome.REFUSED, problem=entry
        )
        for submission, entry in zip(submissions, checked, strict=True)
    ]
    batch.store()
    return results


def _one_archive_per_person(
    session: Session, checked: list[AcceptedRecord | GatewayError]
) -> list[AcceptedRecord | GatewayError]:
    """Refuse records indexed by another document of a person who has an ID number: the ID
    number indexes their one archive (Art. 34 para. 2)."""
    documents = {
        (entry.subject.document_type.value, entry.subject.value)
        for entry in checked
        if isinstance(entry, AcceptedRecord) and entry.subject.document_type is not None
    }
    indexed = documents_of_indexed_persons(session, documents)
    return [
        SecondArchive("the document belongs to a person indexed by an ID number; use it")
        if isinstance(entry, AcceptedRecord)
        and entry.subject.document_type is not None
        and (entry.subject.document_type.value, entry.subject.value) in indexed
        else entry
        for entry in checked
    ]


def _validated(
    desk: ArchiveDesk, provider: str, submission: RecordSubmission
) -> AcceptedRecord | RedactionError:
    try:
        accepted = validate_submission(submission, archive_catalog(), received_at=desk.now)
        check_record_consent(desk, provider, accepted)
    except RedactionError as refusal:
        return refusal
    return accepted


def check_record_consent(desk: ArchiveDesk, provider: str, record: AcceptedRecord) -> None:
    """Raise unless the record's written-consent reference, when it has one, resolves to a
    written consent of ``provider`` for its subject and category still in force (Art. 62
    para. 2; :mod:`gateway.archive.written_consents`)."""
    if record.written_consent_ref is None:
        return
    check_written_consent(
        on_file(desk.session, provider, record.written_consent_ref),
        provider=provider,
        subject_key=subject_key(desk.keys, record.subject),
        category=record.scope_category.value,
    )


@dataclass
class _Batch:
    """The records of one submission: those known by provider record id, and those new."""

    desk: ArchiveDesk
    provider: str
    source: str
    known: dict[str, tuple[RecordRow, VersionContent | None]] = field(default_factory=dict)
    new: list[tuple[RecordRow, _Change]] = field(default_factory=list)
    subjects: dict[str, SubjectIdentifier] = field(default_factory=dict)
    listings: list[Listing] = field(default_factory=list)

    def result(self, accepted: AcceptedRecord) -> SubmissionResult:
        provider_record_id = accepted.provider_record_id
        key = subject_key(self.desk.keys, accepted.subject)
        content = VersionContent.of(accepted)
        known = self.known.get(provider_record_id)
        if known is None:
            row = self.add(accepted, key, content)
            return SubmissionResult(
                provider_record_id, SubmissionOutcome.ACCEPTED, row.record_id, 1
            )
        row, stored = known
        if stored == content and row.subject_key == key and row.item_code == accepted.item_code:
            return SubmissionResult(
                provider_record_id, SubmissionOutcome.UNCHANGED, row.record_id, row.version
            )
        conflict = ProviderRecordConflict(
            f"provider record id '{provider_record_id}' names record {row.record_id} with other "
            "content; change it with a correction",
        )
        return SubmissionResult(
            provider_record_id, SubmissionOutcome.REFUSED, row.record_id, problem=conflict
        )

    def add(self, accepted: AcceptedRecord, key: str, content: VersionContent) -> RecordRow:
        now = self.desk.now
        first = NewVersion(
            f"rec_{uuid.uuid4().hex}", 1, RecordStatus.ACTIVE, content, self.source, now
        )
        row = RecordRow(
            record_id=first.record_id,
            provider=self.provider,
            provider_record_id=accepted.provider_record_id,
            subject_key=key,
            item_code=accepted.item_code,
            catalog_version=archive_catalog().version,
            version=1,
            status=RecordStatus.ACTIVE.value,
            period_start=content.period_start,
            created_at=now,
            updated_at=now,
        )
        change = _Change(self.provider, ChangeKind.SUBMITTED, key, accepted.scope_category, first)
        self.new.append((row, change))
        self.subjects[key] = accepted.subject
        self.known[accepted.provider_record_id] = (row, content)
        self.listings.append(Listing(row, accepted.subject, accepted.fields))
        return row

    def store(self) -> None:
        """Log every new record (one group commit) and the Art. 32 notes they make, then write
        them with their subjects."""
        firsts = _registered(self.desk, [change for _, change in self.new])
        notes = note_responsible_persons(self.desk, self.listings)
        add_subjects(self.desk.session, self.subjects, self.desk.now)
        rows = [row for row, _ in self.new]
        add_records(self.desk.session, list(zip(rows, firsts, strict=True)))
        self.desk.session.add_all(notes)


# -- providing units: corrections and revocations ------------------------------------------


def correct_record(
    desk: ArchiveDesk, provider: str, record_id: str, correction: Correction
) -> RecordChange:
    """Append a version with the corrected content, checked like a submission; a correction
    that changes nothing is a replay and appends nothing."""
    stored, reason, content = _checked_correction(desk, provider, record_id, correction)
    if content == stored.current:
        return _unchanged(stored)
    return _change(desk, stored, ChangeKind.CORRECTED, RecordStatus.ACTIVE, content, reason=reason)


def stop_record(
    desk: ArchiveDesk, provider: str, record_id: str, status: RecordStatus, reason: str
) -> RecordChange:
    """Stop an active record at once, its content kept: ``deleted`` when an objection found it
    wrong (Art. 64), ``restored`` after credit restoration (Art. 66)."""
    stored = _active(desk, provider, record_id)
    kind = _STOPS[status]
    return _change(desk, stored, kind, status, stored.current, reason=checked_reason(reason))


_STOPS = {RecordStatus.DELETED: ChangeKind.DELETED, RecordStatus.RESTORED: ChangeKind.RESTORED}


def check_change(
    desk: ArchiveDesk, provider: str, record_id: str, correction: Correction | None = None
) -> None:
    """Raise as :func:`correct_record` (given a correction) or :func:`stop_record` would, and
    change nothing: for a caller that registers a decision of its own before the change."""
    if correction is None:
        _active(desk, provider, record_id)
    else:
        _checked_correction(desk, provider, record_id, correction)


def _checked_correction(
    desk: ArchiveDesk, provider: str, record_id: str, correction: Correction
) -> tuple[StoredRecord, str, VersionContent]:
    stored = _active(desk, provider, record_id)
    reason = checked_reason(correction.reason)
    accepted = validate_submission(
        _resubmission(stored, correction), archive_catalog(), received_at=desk.now
    )
    check_record_consent(desk, provider, accepted)
    return stored, reason, VersionContent.of(accepted)


def revoke_record(
    desk: ArchiveDesk, provider: str, record_id: str, revocation: Revocation
) -> RecordChange:
    """Revoke at once a record whose basis document was revoked, modified or voided (Art. 65),
    recording the day of the change and the day of the notice; a revoked record stays so."""
    stored = _owned(desk, provider, record_id)
    if stored.status is RecordStatus.REVOKED:
        return _unchanged(stored)
    _require_active(stored)
    reason = checked_reason(revocation.reason)
    check_revocable(stored.current.basis)
    notice = basis_change_notice(
        revocation.basis_status, revocation.basis_changed_on, received_at=desk.now
    )
    return _change(
        desk,
        stored,
        ChangeKind.REVOKED,
        RecordStatus.REVOKED,
        stored.current,
        reason=reason,
        basis_change=notice,
    )


def _owned(desk: ArchiveDesk, provider: str, record_id: str) -> StoredRecord:
    stored = owned_record(desk.session, provider, record_id, lock=True)
    if stored is None:
        raise RecordNotFound("no such record of this providing unit")
    return stored


def _require_active(stored: StoredRecord) -> None:
    if stored.status is not RecordStatus.ACTIVE:
        raise RecordNotActive(f"record {stored.row.record_id} is {stored.status}")


def _active(desk: ArchiveDesk, provider: str, record_id: str) -> StoredRecord:
    stored = _owned(desk, provider, record_id)
    _require_active(stored)
    return stored


def _resubmission(stored: StoredRecord, correction: Correction) -> RecordSubmission:
    current = stored.current
    return RecordSubmission(
        provider_record_id=stored.row.provider_record_id,
        subject=stored.subject,
        item_code=stored.row.item_code,
        fields=correction.fields,
        occurred_on=correction.occurred_on or current.occurred_on,
        decided_on=correction.decided_on or current.decided_on,
        basis=correction.basis or current.basis,
        written_consent_ref=correction.written_consent_ref or current.written_consent_ref,
    )


def _change(
    desk: ArchiveDesk,
    stored: StoredRecord,
    kind: ChangeKind,
    status: RecordStatus,
    content: VersionContent,
    *,
    reason: str,
    basis_change: BasisChange | None = None,
) -> RecordChange:
    """Log, then write the record's next version."""
    row = stored.row
    assert row.subject_key is not None  # owned_record returns records with content only
    catalog = archive_catalog()
    category = catalog.item(row.item_code).scope_category
    source = _source(desk.session, row.provider)
    version = NewVersion(
        row.record_id,
        row.version + 1,
        status,
        content,
        source,
        desk.now,
        reason=reason,
        basis_change=basis_change,
    )
    (version,) = _registered(
        desk, [_Change(row.provider, kind, row.subject_key, category, version)]
    )
    add_version(desk.session, version, catalog.version)
    return RecordChange(row.record_id, row.provider_record_id, version.version, status, True)


def _unchanged(stored: StoredRecord) -> RecordChange:
    row = stored.row
    return RecordChange(
        row.record_id, row.provider_record_id, row.version, stored.status, changed=False
    )


def _source(session: Session, provider: str) -> str:
    """The providing unit as the subject sees it (Art. 63): its registered name."""
    return party_names(session, [provider]).get(provider, provider)


# -- the audit log -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Change:
    """A change to register: who made it, what kind, about whom, of which scope category,
    and the version it wrote (None when the content is purged)."""

    requester: str
    kind: ChangeKind
    subject_key: str
    category: str
    version: NewVersion | None = None


def _registered(desk: ArchiveDesk, changes: Sequence[_Change]) -> list[NewVersion]:
    """The changes' versions with the index of the audit leaf registering each."""
    leaves = _log(desk, changes)
    return [
        replace(change.version, leaf_index=leaf)
        for change, leaf in zip(changes, leaves, strict=True)
        if change.version is not None
    ]


def _log(desk: ArchiveDesk, changes: Sequence[_Change]) -> list[int]:
    """Append the changes side by side, so that the log writes them in one group commit; their
    leaf indexes once every one is durable (any failure fails the whole, closed)."""
    if len(changes) <= 1:
        return [_append(desk, change) for change in changes]
    with ThreadPoolExecutor(min(len(changes), CONCURRENT_APPENDS)) as pool:
        return list(pool.map(partial(_append, desk), changes))


def _append(desk: ArchiveDesk, change: _Change) -> int:
    sealed = seal(change.subject_key, _committed(change.version))
    event = AuditEvent(
        time_ms=int(desk.now.timestamp() * 1000),
        kind=EventKind.RECORD_CHANGE,
        channel=None,
        requester=change.requester,
        legal_basis="",
        grant_id="",
        purpose="",
        item_categories=frozenset({change.category}),
        outcome=Outcome.ALLOWED,
        reason_code=change.kind.value,
        subject_commitment=sealed.subject_commitment,
        response_commitment=sealed.response_commitment,
    )
    return desk.audit_log.append(event, sealed.openings).leaf_index


def _committed(version: NewVersion | None) -> bytes | None:
    """The exact bytes the leaf's response commitment is computed over: the version, as JSON."""
    if version is None:
        return None
    document = {
        "record_id": version.record_id,
        "version": version.version,
        "status": version.status.value,
        **version.content.document(),
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# -- retention (Art. 41) -------------------------------------------------------------------


def purge_past_retention(desk: ArchiveDesk, limit: int = SWEEP_LIMIT) -> int:
    """Purge the content of up to ``limit`` records whose retention period has ended; returns
    how many. Safe to run in several processes at once."""
    catalog = archive_catalog()
    today = local_date(desk.now)
    latest = {item.code: latest_start_ended(item.retention_period, today) for item in catalog.items}
    expired = past_retention(desk.session, latest, limit)
    _log(
        desk,
        [
            _Change(
                RETENTION_JOB,
                ChangeKind.PURGED,
                record.subject_key,
                catalog.item(record.item_code).scope_category,
            )
            for record in expired
        ],
    )
    if expired:
        purge(desk.session, expired, desk.now)
    return len(expired)


def latest_start_ended(period: Period, today: date) -> date:
    """The latest start date of a ``period`` that has ended on ``today``: the period of any
    record that started on it or before has ended (:func:`redaction.records.retention_ends_on`)."""
    start = today - timedelta(days=366 * period.years + 31 * period.months + period.days)
    while period.after(start + timedelta(days=1)) <= today:
        start += timedelta(days=1)
    return start


# -- the disclosure channels ---------------------------------------------------------------


def view_for(
    session: Session,
    keys: GatewayKeys,
    access: Access,
    now: datetime,
    categories: frozenset[ScopeCategory] | None = None,
) -> CreditView:
    """The view ``access`` may see of its subject's records at ``now`` (Art. 39-41, 62-66);
    with ``categories``, only the records of those categories are read."""
    codes = None if categories is None else archive_catalog().codes_in(categories)
    with tracer.start_as_current_span(SPAN_ARCHIVE) as span:
        records = SqlCreditArchive(session, keys).records_of(access.subject, codes)
        span.set_attribute("archive.records", len(records))
    with tracer.start_as_current_span(SPAN_REDACTION) as span:
        view = render_view(
            records,
            access=access,
            catalog=archive_catalog(),
            at=now,
            pseudonym_keys=keys.pseudonyms,
        )
        span.set_attribute("redaction.channel", access.channel.value)
        span.set_attribute("redaction.items", len(view.items))
        span.set_attribute("redaction.redactions", len(view.redactions))
    return view
