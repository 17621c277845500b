"""The table of issued credit reports (Art. 39 para. 5).

One row per report: its number, whose file it is (the subject's internal key), for what use
and which categories, when it was issued and until when it is valid, the SHA-256 digest of
the signed report, a hash of its verification code, and its status. The signed report itself
(``jws``) is kept so that its subject can download it again; it is deleted when the subject
withdraws the report - the digest stays, so a verifier holding a copy is still told it was
withdrawn.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


class ReportStatus(StrEnum):
    VALID = "valid"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class IssuedReport(SQLModel, table=True):
    __tablename__ = "issued_reports"
    # A subject's reports, newest first; the previous valid report of the same use.
    __table_args__ = (Index("ix_issued_reports_subject_key", "subject_key", "issued_at"),)

    number: str = Field(primary_key=True, max_length=32)
    subject_key: str = Field(max_length=64)
    citizen_id: str = Field(max_length=64)
    use: str = Field(max_length=32)
    categories: list[str] = Field(sa_column=Column(JSON, nullable=False))
    issued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    valid_until: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    digest: str = Field(max_length=64)
    code_hash: str = Field(max_length=64)
    status: str = Field(max_length=16)
    superseded_by: str | None = Field(default=None, max_length=32)
    jws: str | None = Field(default=None, sa_column=Column(Text))
    leaf_index: int = Field(sa_column=Column(BigInteger, nullable=False))
    changed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
