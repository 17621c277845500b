"""Tables of the party registry: clients by role, agencies' legal bases (versioned, with their
validity), the accounts of credit subjects.

* ``citizens`` - a natural person's account, indexed by the ID number or, only for a person who
  has none, by another identity document (Art. 34 para. 2). ``password_hash`` is the local
  fallback sign-in (the demo's); an account enrolled for the provincial identity provider has
  none, and signs in through OpenID Connect only. ``username`` likewise.
* ``person_documents`` - other identity documents known to belong to a person who has an ID
  number: such a document never indexes an archive (Art. 34 para. 2, one person, one archive).
* ``entities`` - a legal person or unincorporated organization (credit code) and its legal
  representative, an enrolled natural person.
* ``entity_agents`` - an agent the representative authorized to act for the entity: the
  authorization document's reference, its validity, its withdrawal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from uuid import uuid4

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime

SEEDED_VALID_FROM = date(2000, 1, 1)
"""The validity of a basis seeded without one (the demo's): in force since before the gateway."""


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
    """A legal authority an agency may state for an inquiry (Art. 39 para. 2, Art. 40 para. 1):
    the statute it rests on, its scope, the categories it allows and when it is in force.

    Each amendment is a new version of the code; the highest version is the basis in force
    (unless withdrawn), the older ones are its history. ``leaf_index`` is the audit leaf of the
    change that made the version (None for a seeded basis).
    """

    __tablename__ = "legal_bases"
    __table_args__ = (
        UniqueConstraint("party_id", "code", "version", name="uq_legal_bases_version"),
    )

    id: str = Field(default_factory=_id, primary_key=True, max_length=32)
    party_id: str = Field(foreign_key="parties.id", index=True, max_length=32)
    code: str = Field(max_length=64)
    version: int = 1
    title: str = Field(max_length=300)
    statute: str = Field(default="", max_length=300)
    scope: str = Field(default="", max_length=1000)
    categories: list[str] = Field(sa_column=Column(JSON, nullable=False))
    valid_from: date
    valid_until: date | None = None
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    leaf_index: int | None = None

    def in_force(self, today: date) -> bool:
        """Not withdrawn, and ``today`` within its validity."""
        return in_force(self, today)


class Validity(Protocol):
    """What decides whether a legal basis is in force: a :class:`LegalBasis`, or a row of its
    table."""

    @property
    def withdrawn_at(self) -> datetime | None: ...
    @property
    def valid_from(self) -> date: ...
    @property
    def valid_until(self) -> date | None: ...


def in_force(basis: Validity, today: date) -> bool:
    """Not withdrawn, and ``today`` within its validity."""
    return (
        basis.withdrawn_at is None
        and basis.valid_from <= today
        and (basis.valid_until is None or today <= basis.valid_until)
    )


class Citizen(SQLModel, table=True):
    """A real-name verified natural person's account (the self-inquiry channel, Art. 39)."""

    __tablename__ = "citizens"
    __table_args__ = (
        UniqueConstraint("document_type", "document_number", name="uq_citizens_document"),
    )

    id: str = Field(default_factory=_id, primary_key=True, max_length=32)
    username: str | None = Field(default=None, max_length=64, unique=True)
    id_number: str | None = Field(default=None, max_length=18, unique=True)
    document_type: str | None = Field(default=None, max_length=32)
    document_number: str | None = Field(default=None, max_length=64)
    full_name: str | None = Field(default=None, max_length=100)
    password_hash: str | None = Field(default=None, max_length=200)
    real_name_verified: bool = False
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime, nullable=False)
    )


class PersonDocument(SQLModel, table=True):
    """Another identity document of a person who has an ID number (never an index)."""

    __tablename__ = "person_documents"
    __table_args__ = (
        UniqueConstraint("document_type", "number", name="uq_person_documents_document"),
    )

    id: str = Field(default_factory=_id, primary_key=True, max_length=32)
    citizen_id: str = Field(foreign_key="citizens.id", index=True, max_length=32)
    document_type: str = Field(max_length=32)
    number: str = Field(max_length=64)


class Entity(SQLModel, table=True):
    """A legal person or unincorporated organization and its legal representative."""

    __tablename__ = "entities"

    id: str = Field(default_factory=_id, primary_key=True, max_length=32)
    credit_code: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=24)
    representative_id: str = Field(foreign_key="citizens.id", index=True, max_length=32)
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(UTCDateTime, nullable=False)
    )


class EntityAgent(SQLModel, table=True):
    """An agent the legal representative authorized to act for the entity."""

    __tablename__ = "entity_agents"

    id: str = Field(default_factory=lambda: f"ag_{uuid4().hex}", primary_key=True, max_length=40)
    entity_id: str = Field(foreign_key="entities.id", index=True, max_length=32)
    citizen_id: str = Field(foreign_key="citizens.id", index=True, max_length=32)
    document_reference: str = Field(max_length=128)
    valid_from: date
    valid_until: date
    granted_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
