"""The consent grant table (Art. 61(2), 62): one row per grant, uses counted in place.

Besides the grant itself a row keeps the requester's pseudonym of the subject (computed when
the request is made, so the artefact, the receipt and the webhooks name the subject without
the identifier, which is never stored) and the signed artefact issued at approval.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


class GrantRow(SQLModel, table=True):
    __tablename__ = "consent_grants"
    # The expiry sweep looks grants up by state and deadline.
    __table_args__ = (
        Index("ix_consent_grants_state_pending_until", "state", "pending_until"),
        Index("ix_consent_grants_state_expires_at", "state", "expires_at"),
    )

    grant_id: str = Field(primary_key=True, max_length=64)
    requester: str = Field(max_length=64, index=True)
    subject_key: str = Field(max_length=64, index=True)
    subject_kind: str = Field(max_length=16)
    purpose: str = Field(max_length=64)
    requested_categories: list[str] = Field(sa_column=Column(JSON, nullable=False))
    validity_days: int
    max_uses: int
    requested_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    pending_until: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    state: str = Field(max_length=16)
    granted_categories: list[str] = Field(sa_column=Column(JSON, nullable=False))
    written_consents: list[dict[str, object]] = Field(sa_column=Column(JSON, nullable=False))
    not_before: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    uses: int = 0
    subject_pseudonym: str = Field(max_length=64, sa_column_kwargs={"server_default": ""})
    artefact: str | None = Field(default=None, sa_column=Column(Text))
