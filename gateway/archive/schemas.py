"""The archive API's bodies (Art. 27, 34, 35, 37, 62, 65): the published catalog, providing
units' submissions, corrections and revocations, and what became of each.

Sizes and types are schema checks (422 for the whole request, with the location of the
problem); whether a record may be kept is :func:`redaction.ingest.validate_submission`'s
decision, answered per record in a batch.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from gateway.archive.service import (
    Correction,
    RecordChange,
    Revocation,
    SubmissionOutcome,
    SubmissionResult,
)
from gateway.consents.schemas import SubjectIn
from gateway.problem_handlers import Problem
from gateway.validation import Identifier, StrictBody, Text
from redaction.catalog import Catalog, CatalogItem, LocalizedName
from redaction.changes import BasisStatus
from redaction.ingest import (
    BasisDocument,
    BasisKind,
    Lenient,
    RecordSubmission,
    SubjectReference,
)
from redaction.prohibited import ProhibitedCategory, screen
from redaction.records import RecordStatus

MAX_BATCH = 500
MAX_FIELDS = 64
FieldName = Annotated[Identifier, Field(min_length=1, max_length=64)]
Fields = Annotated[
    dict[FieldName, Text | int],
    Field(max_length=MAX_FIELDS, description="Field name to value; amounts may be integers"),
]
Reason = Annotated[Text, Field(min_length=1, max_length=500, description="Why it changes")]
ConsentRef = Annotated[
    Identifier | None,
    Field(
        max_length=128,
        description="The subject's separate written consent, for restricted items (Art. 62)",
    ),
]


# -- the catalog ---------------------------------------------------------------------------


class ProhibitedOut(BaseModel):
    """The categories never collected: refused at ingestion, never stored, never served."""

    article: str = "Art. 62 para. 1"
    categories: list[ProhibitedCategory]
    lexicon: str = Field(description="The version of each file of the screen's lexicon")


class PublishedCatalog(BaseModel):
    """The catalog in force, every property of every item (Art. 35, 36)."""

    catalog: str
    version: str
    title: LocalizedName
    items: tuple[CatalogItem, ...]
    refused: ProhibitedOut


def published_catalog(catalog: Catalog) -> PublishedCatalog:
    return PublishedCatalog(
        catalog=catalog.catalog,
        version=catalog.version,
        title=catalog.title,
        items=catalog.items,
        refused=ProhibitedOut(categories=list(ProhibitedCategory), lexicon=screen().version),
    )


# -- submissions ---------------------------------------------------------------------------


class BasisIn(StrictBody):
    """The legally effective document untrustworthiness rests on (Art. 27)."""

    kind: BasisKind
    number: Identifier = Field(min_length=1, max_length=128)
    issuer: Text = Field(min_length=1, max_length=200)
    issued_on: date

    def to_basis(self) -> BasisDocument:
        return BasisDocument(self.kind, self.number, self.issuer, self.issued_on)


def _basis(basis: BasisIn | None) -> BasisDocument | None:
    return None if basis is None else basis.to_basis()


class RecordIn(StrictBody):
    """One record about one subject, of one catalog item (Art. 35, 37)."""

    provider_record_id: Identifier = Field(
        min_length=1, max_length=128, description="The unit's own id; resubmitting is idempotent"
    )
    subject: SubjectIn
    item_code: Identifier = Field(min_length=1, max_length=64)
    fields: Fields
    occurred_on: date
    decided_on: date | None = None
    basis: BasisIn | None = Field(None, description="Required for untrustworthiness items")
    written_consent_ref: ConsentRef = None
    corrected_on: date | None = Field(
        None,
        description="Untrustworthy conduct that was slight, of minimal consequence, and corrected "
        "on this day: flagged for lenient designation (Art. 26 para. 2)",
    )

    def to_submission(self) -> RecordSubmission:
        subject = self.subject
        return RecordSubmission(
            provider_record_id=self.provider_record_id,
            subject=SubjectReference(subject.kind, subject.value, subject.document_type),
            item_code=self.item_code,
            fields=self.fields,
            occurred_on=self.occurred_on,
            decided_on=self.decided_on,
            basis=_basis(self.basis),
            written_consent_ref=self.written_consent_ref,
            corrected_on=self.corrected_on,
        )


class RecordsIn(StrictBody):
    records: list[RecordIn] = Field(min_length=1, max_length=MAX_BATCH)

    def submissions(self) -> list[RecordSubmission]:
        return [record.to_submission() for record in self.records]


class RecordResult(BaseModel):
    """One record of the batch: accepted, unchanged (a replay), or refused with its problem."""

    index: int = Field(description="Position in the submitted batch, from 0")
    provider_record_id: str
    outcome: SubmissionOutcome
    record_id: str | None = None
    version: int | None = None
    problem: Problem | None = None
    lenient_designation: list[Lenient] = Field(
        default_factory=list,
        description="Why the record is to be designated leniently and cautiously (Art. 26 "
        "para. 2): minor_over_16 (on the day of the conduct), slight_and_corrected",
    )


class RecordsOut(BaseModel):
    accepted: int
    unchanged: int
    refused: int
    results: list[RecordResult]


def records_out(results: list[SubmissionResult]) -> RecordsOut:
    shaped = [
        RecordResult(
            index=index,
            provider_record_id=result.provider_record_id,
            outcome=result.outcome,
            record_id=result.record_id,
            version=result.version,
            problem=None if result.problem is None else Problem(**result.problem.to_problem()),
            lenient_designation=sorted(Lenient(flag) for flag in result.lenient),
        )
        for index, result in enumerate(results)
    ]
    counts = {outcome: 0 for outcome in SubmissionOutcome}
    for result in results:
        counts[result.outcome] += 1
    return RecordsOut(
        accepted=counts[SubmissionOutcome.ACCEPTED],
        unchanged=counts[SubmissionOutcome.UNCHANGED],
        refused=counts[SubmissionOutcome.REFUSED],
        results=shaped,
    )


# -- corrections and revocations -----------------------------------------------------------


class ContentIn(StrictBody):
    """A record's new content: ``fields`` is the complete set after the change; dates, basis
    document and written-consent reference left out keep their current values."""

    fields: Fields
    occurred_on: date | None = None
    decided_on: date | None = None
    basis: BasisIn | None = None
    written_consent_ref: ConsentRef = None

    def to_correction(self, reason: str) -> Correction:
        return Correction(
            reason=reason,
            fields=self.fields,
            occurred_on=self.occurred_on,
            decided_on=self.decided_on,
            basis=_basis(self.basis),
            written_consent_ref=self.written_consent_ref,
        )


class CorrectionIn(ContentIn):
    """A new version with the reason of the correction."""

    reason: Reason

    def to_correction(self, reason: str | None = None) -> Correction:
        return super().to_correction(self.reason if reason is None else reason)


class RevocationIn(StrictBody):
    """The record's basis document was revoked, modified or declared void (Art. 65): revoked or
    voided revokes the record; modified comes with the record's ``modification``, its content
    after the document's modification (a new version; the record is not revoked)."""

    reason: Reason
    basis_status: BasisStatus
    basis_changed_on: date = Field(description="The day the basis document changed")
    modification: ContentIn | None = Field(
        None, description="The record's modified content; exactly when basis_status is modified"
    )

    def to_revocation(self) -> Revocation:
        modification = self.modification
        return Revocation(
            self.reason,
            self.basis_status,
            self.basis_changed_on,
            None if modification is None else modification.to_correction(self.reason),
        )


class RecordChangeOut(BaseModel):
    """The record after the change; ``changed`` false when nothing was changed (a replay)."""

    record_id: str
    provider_record_id: str
    version: int
    status: RecordStatus
    changed: bool


def record_change_out(change: RecordChange) -> RecordChangeOut:
    return RecordChangeOut(
        record_id=change.record_id,
        provider_record_id=change.provider_record_id,
        version=change.version,
        status=change.status,
        changed=change.changed,
    )
