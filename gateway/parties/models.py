"""Tables of the party registry: clients by role, agencies' legal bases, citizens' accounts."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


def _now() -> datetime:
    return datetime.now(UTC)


def _id() -> str:
    return uuid4().hex


class Party(SQLModel, table=True):
    """An OAuth client: a credit service establishment, agency, providing unit or regulator."""

    __tablename__ = "parties"

    id: str = Field(default_factory=_id, primary_key=True, max_length=32)
    role: str = Field(max_length=16, index=True)
    name: str = Field(max_length=200)
    client_id: str = Field(max_length=64, unique=True)
    # One party per unified social credit code (Art. 34); NULL for none, as often as needed.
    credit_code: str | None = Field(default=None, max_length=18, unique=True, index=True)
    sector: str | None = Field(default=None, max_length=64)
    webhook_url: str | None = Field(default=None, max_length=500)
    # How a citizen reaches an establishment (the controller of a consent receipt).
    postal_address: str | None = Field(default=None, max_length=300)
    contact_email: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=40)
    jwks: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    # RFC 9449 section 5.2: every access token of the client must be bound to a DPoP key.
    dpop_bound_access_tokens: bool = False
    disabled: bool = False
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime, nullable=False)
    )


class LegalBasis(SQLModel, table=True):
    """A legal authority an agency may state for an inquiry, and the categories it allows."""

    __tablename__ = "legal_bases"

    id: str = Field(default_factory=_id, primary_key=True, max_length=32)
    party_id: str = Field(foreign_key="parties.id", index=True, max_length=32)
    code: str = Field(max_length=64)
    title: str = Field(max_length=300)
    categories: list[str] = Field(sa_column=Column(JSON, nullable=False))


class Citizen(SQLModel, table=True):
    """A real-name verified citizen account (the self-inquiry channel, Art. 39)."""

    __tablename__ = "citizens"

    id: str = Field(default_factory=_id, primary_key=True, max_length=32)
    username: str = Field(max_length=64, unique=True)
    id_number: str = Field(max_length=18, unique=True)
    password_hash: str = Field(max_length=200)
    real_name_verified: bool = False
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime, nullable=False)
    )
