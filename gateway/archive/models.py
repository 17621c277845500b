"""Tables of the credit archive (Art. 34, 37, 41, 61(3), 63, 65).

* ``credit_subjects`` — the archive index (Art. 34): the ONLY table holding a raw identifier,
  keyed by its ``subject_key`` (:func:`gateway.subjects.subject_key`). A row lives as long as a
  record with content refers to it.
* ``records`` — one row per record a providing unit submitted: its owner, the owner's own id
  for it (unique per owner: submissions are idempotent), the subject, the item, the current
  version, status and period start (for the retention purge), the objection label (Art. 64).
* ``written_consents`` — the written consents records rest on (Art. 62 para. 2), by the providing
  unit's reference: given by the subject in the gateway, or a registered signed document.
* ``record_versions`` — every version of a record, append-only (Art. 61(3), 63): content,
  basis document (Art. 27), written-consent reference (Art. 62 para. 2), reason of the change,
  source, the Art. 65 notice of a basis document's change, the flags for lenient designation
  (Art. 26 para. 2) with the day slight conduct was corrected, and the audit leaf that
  registered the change.
  A version row is never updated, with one exception: the retention purge (Art. 41) empties
  its content; ``records.purged_at`` marks that.
* ``subject_statements`` - what subjects state about a record of their own file: statements,
  self-declarations and pledges (Art. 37 para. 2), with the audit leaf that registered each.
* ``responsibility_notes`` — Art. 32: when a legal person or unincorporated organization enters
  the serious untrustworthiness list, a note in the credit record of each responsible natural
  person (the legal representative, and the persons the listing record names), pointing at the
  listing record; it ends with the record's display.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


class CreditSubject(SQLModel, table=True):
    __tablename__ = "credit_subjects"

    subject_key: str = Field(primary_key=True, max_length=64)
    identifier_kind: str = Field(max_length=16)
    identifier_value: str = Field(max_length=64)
    document_type: str | None = Field(default=None, max_length=32)
    subject_kind: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class RecordRow(SQLModel, table=True):
    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("provider", "provider_record_id", name="uq_records_provider_record_id"),
        # The retention purge looks records up by item and period start.
        Index("ix_records_item_code_period_start", "item_code", "period_start"),
    )

    record_id: str = Field(primary_key=True, max_length=40)
    provider: str = Field(max_length=64)
    provider_record_id: str = Field(max_length=128)
    subject_key: str | None = Field(
        default=None, foreign_key="credit_subjects.subject_key", index=True, max_length=64
    )
    item_code: str = Field(max_length=64)
    catalog_version: str = Field(max_length=64)
    version: int
    status: str = Field(max_length=16)
    under_objection: bool = False
    period_start: date
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    purged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class RecordVersionRow(SQLModel, table=True):
    __tablename__ = "record_versions"

    record_id: str = Field(foreign_key="records.record_id", primary_key=True, max_length=40)
    version: int = Field(primary_key=True)
    status: str = Field(max_length=16)
    fields: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    occurred_on: date
    decided_on: date | None = None
    basis: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    written_consent_ref: str | None = Field(default=None, max_length=128)
    corrected_on: date | None = None
    lenient: list[str] | None = Field(default=None, sa_column=Column(JSON))
    reason: str | None = Field(default=None, max_length=500)
    source: str = Field(max_length=200)
    basis_status: str | None = Field(default=None, max_length=16)
    basis_changed_on: date | None = None
    notice_on: date | None = None
    leaf_index: int | None = Field(default=None, sa_column=Column(BigInteger))
    changed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class WrittenConsentRow(SQLModel, table=True):
    """A written consent a record may rest on (Art. 62 para. 2), by the providing unit's
    reference: one the subject gave in the gateway (``collection``, with the version of the
    consequences text confirmed) or a signed document the unit registered (``document``, with
    the day it was signed). Withdrawing sets ``withdrawn_at``; the row is never deleted."""

    __tablename__ = "written_consents"

    provider: str = Field(primary_key=True, max_length=64)
    reference: str = Field(primary_key=True, max_length=128)
    subject_key: str = Field(max_length=64, index=True)
    category: str = Field(max_length=32)
    source: str = Field(max_length=16)
    text_version: str | None = Field(default=None, max_length=64)
    signed_on: date | None = None
    given_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class SubjectStatement(SQLModel, table=True):
    """A statement, self-declaration or pledge the subject attached to a record of their own
    file (Art. 37 para. 2): served with the record, labelled as the subject's own."""

    __tablename__ = "subject_statements"

    statement_id: str = Field(primary_key=True, max_length=40)
    subject_key: str = Field(max_length=64, index=True)
    record_id: str = Field(foreign_key="records.record_id", max_length=40)
    kind: str = Field(max_length=24)
    text: str = Field(max_length=1000)
    made_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    leaf_index: int = Field(sa_column=Column(BigInteger, nullable=False))


class ResponsibilityNote(SQLModel, table=True):
    __tablename__ = "responsibility_notes"
    __table_args__ = (
        UniqueConstraint("person_key", "record_id", name="uq_responsibility_notes_person_record"),
    )

    note_id: str = Field(primary_key=True, max_length=40)
    person_key: str = Field(max_length=64, index=True)
    record_id: str = Field(foreign_key="records.record_id", max_length=40, index=True)
    role: str = Field(max_length=32)
    noted_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ArchiveFile(SQLModel, table=True):
    """The revision of a subject's file: drawn anew, by the database's triggers, in the
    transaction of every change to the subject's records, versions or statements (migration
    ``0033_archive_revisions``); what a rendered view is kept by (:mod:`gateway.archive.views`)."""

    __tablename__ = "archive_files"

    subject_key: str = Field(primary_key=True, max_length=64)
    revision: int = Field(sa_column=Column(BigInteger, nullable=False))
