"""The purposes registry's table (Art. 61(2): a consent is for one registered purpose).

Each row is one version of a purpose: ``definition`` is the purpose as
:class:`consent.purposes.Purpose` reads it. The highest version of a code is the purpose in
force unless ``retired_at`` is set; a retired purpose admits no new consent request, and the
consents already granted for it keep its description. The rows are seeded from
``consent/purposes.yaml`` by the migration that creates the table; every later change is an
audit leaf (``leaf_index``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


class PurposeVersion(SQLModel, table=True):
    __tablename__ = "purposes"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_purposes_version"),)

    id: str = Field(default_factory=lambda: uuid4().hex, primary_key=True, max_length=32)
    code: str = Field(max_length=64, index=True)
    version: int = 1
    definition: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    registered_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC), sa_column=Column(UTCDateTime, nullable=False)
    )
    retired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    leaf_index: int | None = None
