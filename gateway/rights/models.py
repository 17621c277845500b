"""Tables of the subject rights (Art. 64-67, 70(8)) and of the scheduler's leases.

* ``objections`` - one row per objection a credit subject filed (Art. 64): what it is about
  (a record, or an assessment or market information at a named holder), who must answer and by
  which day, the answer; the audit leaves of each step.
* ``disclosures`` - which establishment received which record of information on
  untrustworthiness in which authorized inquiry (the inquiry's leaf index), written with the
  inquiry: whom to tell when its display stops (Art. 67, which covers no other information, so
  no other record is kept). Keyed by record, then leaf: the notices look them up by record.
* ``deletion_notices`` - one notice per record and establishment that received it (unique), its
  cause, its acknowledgement deadline and acknowledgement (Art. 67, 70(8)). A record with a
  notice has been announced: the display sweep never announces it again.
* ``restorations`` - the credit restoration decision a providing unit recorded (Art. 66).
* ``restoration_applications`` - a subject's application for credit restoration of one of its
  untrustworthiness records (Art. 66 para. 1), and the designating unit's decision: approved
  (a restoration is recorded) or rejected with reasons.
* ``job_leases`` - one row per scheduled job: which process holds it until when.

Subjects appear only as their internal key (:mod:`gateway.subjects`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


def _leaf(nullable: bool = True) -> Column[int]:
    return Column(BigInteger, nullable=nullable)


def _time(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime, nullable=nullable)


class ObjectionState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class Objection(SQLModel, table=True):
    __tablename__ = "objections"
    # The regulators' overdue list reads open objections by due day.
    __table_args__ = (Index("ix_objections_state_due_on", "state", "due_on"),)

    objection_id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=24)
    citizen_id: str = Field(max_length=64)
    subject_key: str = Field(max_length=64, index=True)
    record_id: str | None = Field(default=None, max_length=40, index=True)
    item_code: str | None = Field(default=None, max_length=64)
    holder: str = Field(max_length=64, index=True)
    reason: str = Field(max_length=500)
    attachment_ref: str | None = Field(default=None, max_length=200)
    state: str = Field(max_length=16)
    filed_at: datetime = Field(sa_column=_time())
    due_on: date
    filed_leaf: int = Field(sa_column=_leaf(nullable=False))
    outcome: str | None = Field(default=None, max_length=16)
    answer_reason: str | None = Field(default=None, max_length=500)
    answered_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    answered_leaf: int | None = Field(default=None, sa_column=_leaf())
    overdue_leaf: int | None = Field(default=None, sa_column=_leaf())


class Disclosure(SQLModel, table=True):
    __tablename__ = "disclosures"

    record_id: str = Field(primary_key=True, max_length=40)
    leaf_index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    requester: str = Field(max_length=64)


class DeletionNotice(SQLModel, table=True):
    __tablename__ = "deletion_notices"
    __table_args__ = (
        UniqueConstraint("record_id", "recipient", name="uq_deletion_notices_record_recipient"),
        # The regulators' overdue list reads unacknowledged notices by due day.
        Index("ix_deletion_notices_acknowledged_at_due_on", "acknowledged_at", "due_on"),
    )

    notice_id: str = Field(primary_key=True, max_length=40)
    recipient: str = Field(max_length=64, index=True)
    record_id: str = Field(max_length=40)
    item_code: str = Field(max_length=64)
    subject_key: str | None = Field(default=None, max_length=64)
    cause: str = Field(max_length=24)
    stopped_on: date
    created_at: datetime = Field(sa_column=_time())
    due_on: date
    sent_leaf: int = Field(sa_column=_leaf(nullable=False))
    acknowledged_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    acknowledged_leaf: int | None = Field(default=None, sa_column=_leaf())
    overdue_leaf: int | None = Field(default=None, sa_column=_leaf())


class Restoration(SQLModel, table=True):
    __tablename__ = "restorations"

    record_id: str = Field(primary_key=True, max_length=40)
    provider: str = Field(max_length=64)
    decision: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = Field(sa_column=_time())


class ApplicationState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class RestorationApplication(SQLModel, table=True):
    __tablename__ = "restoration_applications"

    application_id: str = Field(primary_key=True, max_length=40)
    record_id: str = Field(max_length=40, index=True)
    provider: str = Field(max_length=64, index=True)
    subject_key: str = Field(max_length=64, index=True)
    account_id: str = Field(max_length=64)
    reason: str = Field(max_length=500)
    attachment_ref: str | None = Field(default=None, max_length=200)
    state: str = Field(max_length=16)
    filed_at: datetime = Field(sa_column=_time())
    decided_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    decision_reason: str | None = Field(default=None, max_length=500)


class JobLease(SQLModel, table=True):
    __tablename__ = "job_leases"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=_time())
