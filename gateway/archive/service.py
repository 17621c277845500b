"""The credit archive as providing units change it and the channels read it (Art. 27, 34-37,
41, 61(3), 62-66).

* A providing unit submits records in batches (:func:`submit_records`). Each is checked by
  :func:`redaction.ingest.validate_submission` and is accepted, recognized as a replay of the
  same provider record id with the same content (unchanged), or refused with its problem — and
  nothing of a refused record is stored, not even its subject. The same id with other content is
  a conflict: changes go through :func:`correct_record`, which appends a version,
  :func:`revoke_record`, which applies an Art. 65 notice at once (a revoked or voided basis
  document revokes the record, a modified one modifies it: a new version with the modified
  content), and :func:`stop_record` (deleted after an objection, Art. 64; restored, Art. 66).
  Only the owner changes a record; for any other providing unit it does not exist. A refusal
  names the article of the change refused.
* Every change is first appended to the audit log — durable before anything is written; the
  leaf holds the providing unit, the item's scope category, the kind of change and commitments
  to the subject and to the version's content, never either — then written in the request's
  unit of work, which commits (nothing here does). The log goes first because on SQLite a
  transaction that has written holds the database's only write lock, which the log's own
  transaction would then wait for.
* :func:`purge_past_retention` (for the scheduler and ``gateway archive purge``) empties the
  content of records whose retention period ended (Art. 41 para. 2); their leaves remain.
* A credit subject attaches statements, self-declarations and pledges to a record of their own
  file (:func:`attach_statement`, Art. 37 para. 2): registered in the audit log like a change
  (``subject_statement``, by ``citizen``), then stored; the channels serve them with the record.
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
from consent.channels import narrow
from gateway.archive.errors import ProviderRecordConflict, RecordNotActive, RecordNotFound
from gateway.archive.models import RecordRow
from gateway.archive.models import SubjectStatement as StatementRow
from gateway.archive.notes import Listing, note_responsible_persons
from gateway.archive.repository import (
    NewVersion,
    SqlCreditArchive,
    StoredRecord,
    VersionContent,
    add_records,
    add_statement,
    add_subjects,
    add_version,
    first_versions,
    owned_record,
    past_retention,
    purge,
    statements_of,
    subject_record,
)
from gateway.archive.views import FileRevision, Rendered, RenderedViews, ViewKey
from gateway.archive.written_consent_repository import on_file
from gateway.audit_log.service import AuditLog, seal
from gateway.keys import GatewayKeys
from gateway.parties.repository import (
    SecondArchive,
    documents_of_indexed_persons,
    party_by_client_id,
    party_names,
)
from gateway.subjects import subject_key
from gateway.telemetry import SPAN_ARCHIVE, SPAN_REDACTION, tracer
from problems import GatewayError
from redaction.catalog import Catalog, ScopeCategory, Sector, load_catalog
from redaction.changes import (
    ARTICLE as BASIS_CHANGE,
)
from redaction.changes import (
    CHANGEABLE,
    BasisChange,
    BasisStatus,
    basis_change_notice,
    check_revocable,
    checked_reason,
    status_after,
)
from redaction.engine import render_view
from redaction.errors import RedactionError
from redaction.identifiers import SubjectIdentifier
from redaction.ingest import AcceptedRecord, BasisDocument, RecordSubmission, validate_submission
from redaction.periods import Period, local_date
from redaction.policies import ARTICLES, Access, Reason
from redaction.records import RecordStatus
from redaction.statements import ARTICLE as STATEMENT_ARTICLE
from redaction.statements import StatementKind, checked_statement
from redaction.written_consent import check_written_consent

CITIZEN = "citizen"
"""A citizen is registered by role, never by an identifier (:mod:`audit.leaf`)."""
SWEEP_LIMIT = 500
_RENDERED = RenderedViews()
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
    MODIFIED = "modified"
    REVOKED = "revoked"
    DELETED = "deleted"
    RESTORED = "restored"
    PURGED = "purged"
    STATEMENT = "subject_statement"


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
    lenient: frozenset[str] = frozenset()


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
    """A providing unit's Art. 65 notice: what happened to the basis document, and when; for a
    modified document, the record's modified content (its reason is the notice's)."""

    reason: str
    basis_status: BasisStatus
    basis_changed_on: date
    modification: Correction | None = None


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
    sector = _sector(desk.session, provider)
    checked = _one_archive_per_person(
        desk.session,
        [_validated(desk, provider, sector, submission) for submission in submissions],
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
    desk: ArchiveDesk, provider: str, sector: Sector | None, submission: RecordSubmission
) -> AcceptedRecord | RedactionError:
    try:
        accepted = validate_submission(
            submission, archive_catalog(), received_at=desk.now, sector=sector
        )
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


def _sector(session: Session, provider: str) -> Sector | None:
    """The sector the providing unit registered with: the items it designates (Art. 26)."""
    party = party_by_client_id(session, provider)
    return Sector(party.sector) if party is not None and party.sector in set(Sector) else None


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
                provider_record_id,
                SubmissionOutcome.ACCEPTED,
                row.record_id,
                1,
                lenient=accepted.lenient,
            )
        row, stored = known
        if stored == content and row.subject_key == key and row.item_code == accepted.item_code:
            return SubmissionResult(
                provider_record_id,
                SubmissionOutcome.UNCHANGED,
                row.record_id,
                row.version,
                lenient=accepted.lenient,
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
    stored = _active(desk, provider, record_id, _STOP_ARTICLES[status])
    kind = _STOPS[status]
    return _change(desk, stored, kind, status, stored.current, reason=checked_reason(reason))


_STOPS = {RecordStatus.DELETED: ChangeKind.DELETED, RecordStatus.RESTORED: ChangeKind.RESTORED}
_STOP_ARTICLES = {
    RecordStatus.DELETED: ARTICLES[Reason.DELETED],
    RecordStatus.RESTORED: ARTICLES[Reason.RESTORED],
}
STOPPED_BY = {
    RecordStatus.REVOKED: ARTICLES[Reason.REVOKED],
    RecordStatus.RESTORED: ARTICLES[Reason.RESTORED],
    RecordStatus.DELETED: ARTICLES[Reason.DELETED],
}
"""The article by which a record in each status stopped: a change it refuses names it."""
CORRECTIONS = "Art. 37 para. 1"
"""A providing unit provides (and corrects) its records accurately and completely."""


def check_change(
    desk: ArchiveDesk, provider: str, record_id: str, correction: Correction | None = None
) -> None:
    """Raise as :func:`correct_record` (given a correction) or :func:`stop_record` would, and
    change nothing: for a caller that registers a decision of its own before the change."""
    if correction is None:
        _active(desk, provider, record_id, ARTICLES[Reason.DELETED])
    else:
        _checked_correction(desk, provider, record_id, correction)


def _checked_correction(
    desk: ArchiveDesk, provider: str, record_id: str, correction: Correction
) -> tuple[StoredRecord, str, VersionContent]:
    stored = _active(desk, provider, record_id, CORRECTIONS)
    reason = checked_reason(correction.reason)
    return stored, reason, _corrected_content(desk, stored, correction)


def _corrected_content(
    desk: ArchiveDesk, stored: StoredRecord, correction: Correction
) -> VersionContent:
    accepted = validate_submission(
        _resubmission(stored, correction),
        archive_catalog(),
        received_at=desk.now,
        sector=_sector(desk.session, stored.row.provider),
    )
    check_record_consent(desk, stored.row.provider, accepted)
    return VersionContent.of(accepted)


def revoke_record(
    desk: ArchiveDesk, provider: str, record_id: str, revocation: Revocation
) -> RecordChange:
    """Apply at once a notice that the record's basis document was revoked, modified or voided
    (Art. 65), recording the day of the change and the day of the notice: a revoked or voided
    document revokes the record (also a restored one; a revoked record stays so), a modified
    one appends a version with the modified content, checked like a correction."""
    stored = _owned(desk, provider, record_id, BASIS_CHANGE)
    modified = revocation.basis_status is BasisStatus.MODIFIED
    if stored.status is RecordStatus.REVOKED and not modified:
        return _unchanged(stored)
    _require(stored, CHANGEABLE)
    reason = checked_reason(revocation.reason)
    check_revocable(stored.current.basis)
    notice = basis_change_notice(
        revocation.basis_status,
        revocation.basis_changed_on,
        received_at=desk.now,
        modified_content=revocation.modification is not None,
    )
    content = stored.current
    if revocation.modification is not None:
        content = _corrected_content(desk, stored, revocation.modification)
    kind = ChangeKind.MODIFIED if modified else ChangeKind.REVOKED
    status = status_after(stored.status, revocation.basis_status)
    return _change(desk, stored, kind, status, content, reason=reason, basis_change=notice)


def _owned(desk: ArchiveDesk, provider: str, record_id: str, article: str) -> StoredRecord:
    """The provider's record; for any other, none - refused naming the change's ``article``."""
    stored = owned_record(desk.session, provider, record_id, lock=True)
    if stored is None:
        raise RecordNotFound("no such record of this providing unit", article=article)
    return stored


def _require(stored: StoredRecord, statuses: frozenset[RecordStatus]) -> None:
    """Raise, naming the article that stopped the record, unless it is in ``statuses``."""
    if stored.status not in statuses:
        raise RecordNotActive(
            f"record {stored.row.record_id} is {stored.status}",
            article=STOPPED_BY.get(stored.status),
        )


def _active(desk: ArchiveDesk, provider: str, record_id: str, article: str) -> StoredRecord:
    stored = _owned(desk, provider, record_id, article)
    _require(stored, frozenset({RecordStatus.ACTIVE}))
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
        corrected_on=current.corrected_on,
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
    and the version it wrote (None when the content is purged) or the document it added."""

    requester: str
    kind: ChangeKind
    subject_key: str
    category: str
    version: NewVersion | None = None
    document: bytes | None = None


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
    sealed = seal(
        change.subject_key, change.version.committed() if change.version else change.document
    )
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


# -- the subject's own statements (Art. 37 para. 2) ----------------------------------------


def own_record(desk: ArchiveDesk, subject_key: str, record_id: str, article: str) -> RecordRow:
    """A record of the subject's file as the subject sees it - not deleted, within retention -
    or :class:`RecordNotFound` naming ``article``."""
    row = subject_record(desk.session, subject_key, record_id)
    item = archive_catalog().get(row.item_code) if row is not None else None
    if (
        row is None
        or item is None
        or row.status == RecordStatus.DELETED.value
        or item.retention_period.after(row.period_start) <= local_date(desk.now)
    ):
        raise RecordNotFound("no such record in your file", article=article)
    return row


def attach_statement(
    desk: ArchiveDesk, subject_key: str, record_id: str, kind: StatementKind, text: str
) -> StatementRow:
    """Register, then store, what the subject states about a record of their own file."""
    checked = checked_statement(text)
    row = own_record(desk, subject_key, record_id, STATEMENT_ARTICLE)
    statement = StatementRow(
        statement_id=f"st_{uuid.uuid4().hex}",
        subject_key=subject_key,
        record_id=record_id,
        kind=kind.value,
        text=checked,
        made_at=desk.now,
        leaf_index=0,
    )
    document = {
        "statement_id": statement.statement_id,
        "record_id": record_id,
        "kind": kind.value,
        "text": checked,
    }
    category = archive_catalog().item(row.item_code).scope_category
    encoded = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    change = _Change(CITIZEN, ChangeKind.STATEMENT, subject_key, category, None, encoded.encode())
    (statement.leaf_index,) = _log(desk, [change])
    add_statement(desk.session, statement)
    return statement


def statements_by(desk: ArchiveDesk, subject_key: str) -> list[StatementRow]:
    """What the subject attached to their records, newest first."""
    return statements_of(desk.session, subject_key)


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
    file: FileRevision | None = None,
) -> Rendered:
    """The view ``access`` may see of its subject's records at ``now`` (Art. 39-41, 62-66),
    and its document; with ``categories``, only the records of those categories are read and
    only the redactions about what is served are told (:func:`consent.channels.narrow`). What
    was rendered from the same revision of the file - ``file``'s, read in the same unit of
    work, else read here - is reused (:mod:`gateway.archive.views`)."""
    catalog = archive_catalog()

    def kept(revision: int | None) -> ViewKey:
        today = local_date(now)
        return ViewKey(revision, access, catalog.version, today, keys.pseudonyms, categories)

    archive = SqlCreditArchive(session, keys)
    with tracer.start_as_current_span(SPAN_ARCHIVE) as span:
        revision = archive.revision(access.subject) if file is None else file.revision
        found = _RENDERED.get(kept(revision))
        span.set_attribute("archive.kept", found is not None)
        if found is not None:
            return found
        codes = None if categories is None else catalog.codes_in(categories)
        held = archive.file_of(access.subject, codes)
        span.set_attribute("archive.records", len(held.records))
    with tracer.start_as_current_span(SPAN_REDACTION) as span:
        view = render_view(
            held.records, access=access, catalog=catalog, at=now, pseudonym_keys=keys.pseudonyms
        )
        view = view if categories is None else narrow(view, categories)
        rendered = Rendered(view, view.to_document())
        _RENDERED.keep(kept(held.revision), rendered)
        span.set_attribute("redaction.channel", access.channel.value)
        span.set_attribute("redaction.items", len(view.items))
        span.set_attribute("redaction.redactions", len(view.redactions))
    return rendered
