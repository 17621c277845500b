"""Bodies and answers of the registry's admin API (``/v1/registry``)."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from fastapi import Path
from pydantic import BaseModel, Field

from audit.sequencer import Appended
from consent.clients import Role as ClientRole
from consent.purposes import MAX_VALIDITY_DAYS, Frequency, Purpose
from gateway.inquiries.schemas import AuditReceipt
from gateway.parties.models import LegalBasis, Party
from gateway.parties.service import Registration, key_ids
from gateway.registry.models import PurposeVersion
from gateway.registry.service import BasisDraft, Logged
from gateway.validation import Identifier, StrictBody, Text
from redaction.catalog import ScopeCategory

ClientId = Annotated[
    Identifier, Path(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$", description="A client id")
]
BasisCode = Annotated[Identifier, Path(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
PurposeCode = Annotated[Identifier, Path(pattern=r"^[a-z][a-z0-9_]{2,63}$")]
Role = Literal["establishment", "agency", "provider", "regulator", "operator"]
JwkMember = Annotated[Identifier, Field(max_length=2048)]
Categories = Annotated[list[ScopeCategory], Field(min_length=1, max_length=len(ScopeCategory))]


class JwkSetIn(StrictBody):
    """Public keys (RFC 7517 JWK Set); a private member is refused."""

    keys: list[dict[Identifier, JwkMember]] = Field(min_length=1, max_length=8)


class PartyIn(StrictBody):
    role: Role
    name: Text = Field(min_length=1, max_length=200)
    client_id: Identifier = Field(min_length=3, max_length=64)
    jwks: JwkSetIn
    credit_code: Identifier | None = Field(None, max_length=18)
    sector: Identifier | None = Field(None, max_length=64)
    webhook_url: Identifier | None = Field(None, max_length=500)
    postal_address: Text | None = Field(None, max_length=300)
    contact_email: Identifier | None = Field(None, max_length=200)
    contact_phone: Identifier | None = Field(None, max_length=40)
    dpop_bound_access_tokens: bool = False

    def to_registration(self) -> Registration:
        return Registration(
            role=ClientRole(self.role),
            name=self.name,
            client_id=self.client_id,
            jwks=self.jwks.keys,
            credit_code=self.credit_code,
            sector=self.sector,
            webhook_url=self.webhook_url,
            postal_address=self.postal_address,
            contact_email=self.contact_email,
            contact_phone=self.contact_phone,
            dpop_bound_access_tokens=self.dpop_bound_access_tokens,
        )


class KeyRotationIn(StrictBody):
    jwks: JwkSetIn
    retire_old: bool = Field(False, description="The new keys replace every other key")


class PartyOut(BaseModel):
    client_id: str
    role: str
    name: str
    credit_code: str | None
    sector: str | None
    disabled: bool
    key_ids: list[str]
    dpop_bound_access_tokens: bool


class LegalBasisTermsIn(StrictBody):
    """What a legal basis of an agency says (Art. 39 para. 2, Art. 40 para. 1); its code is
    the path's when it is amended."""

    title: Text = Field(min_length=1, max_length=300)
    statute: Text = Field(
        min_length=1, max_length=300, description="The law and article it rests on"
    )
    scope: Text = Field(min_length=1, max_length=1000, description="What it allows inquiring")
    categories: Categories
    valid_from: date
    valid_until: date | None = Field(None, description="None: until withdrawn")

    def to_draft(self, code: str) -> BasisDraft:
        return BasisDraft(
            code=code,
            title=self.title,
            statute=self.statute,
            scope=self.scope,
            categories=frozenset(category.value for category in self.categories),
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


class LegalBasisIn(LegalBasisTermsIn):
    """A new legal basis of an agency, with its code."""

    code: Identifier = Field(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")


class LegalBasisOut(BaseModel):
    client_id: str
    code: str
    version: int
    title: str
    statute: str
    scope: str
    categories: list[str]
    valid_from: date
    valid_until: date | None
    withdrawn_at: datetime | None
    in_force: bool


class LocalizedTextIn(StrictBody):
    zh: Text = Field(min_length=1, max_length=200)
    en: Text = Field(min_length=1, max_length=200)


class PurposeTermsIn(StrictBody):
    """What a purpose of consent says (Art. 61(2)): a one-time purpose allows exactly one
    inquiry; its code is the path's when it is amended."""

    description: LocalizedTextIn
    categories: Categories
    max_validity_days: int = Field(ge=1, le=MAX_VALIDITY_DAYS)
    max_uses: int = Field(ge=1, le=1000)
    frequency: Frequency
    subject_kinds: list[Literal["natural_person", "legal_person"]] = Field(
        min_length=1, max_length=2
    )

    def definition(self, code: str) -> dict[str, object]:
        return {"code": code, **self.model_dump(mode="json", exclude={"code"})}


class PurposeIn(PurposeTermsIn):
    """A new purpose of consent, with its code."""

    code: Identifier = Field(pattern=r"^[a-z][a-z0-9_]{2,63}$")


class PurposeOut(BaseModel):
    code: str
    version: int
    retired_at: datetime | None
    definition: Purpose


Out = TypeVar("Out", bound=BaseModel)


class Changed(BaseModel, Generic[Out]):
    """A stored change and its ``registry_change`` audit leaf."""

    entry: Out
    audit: AuditReceipt


def party_out(party: Party) -> PartyOut:
    return PartyOut(
        client_id=party.client_id,
        role=party.role,
        name=party.name,
        credit_code=party.credit_code,
        sector=party.sector,
        disabled=party.disabled,
        key_ids=key_ids(party),
        dpop_bound_access_tokens=party.dpop_bound_access_tokens,
    )


def legal_basis_out(client_id: str, basis: LegalBasis, today: date) -> LegalBasisOut:
    return LegalBasisOut(
        client_id=client_id,
        in_force=basis.in_force(today),
        **basis.model_dump(
            include={
                "code",
                "version",
                "title",
                "statute",
                "scope",
                "categories",
                "valid_from",
                "valid_until",
                "withdrawn_at",
            }
        ),
    )


def purpose_out(row: PurposeVersion) -> PurposeOut:
    return PurposeOut(
        code=row.code,
        version=row.version,
        retired_at=row.retired_at,
        definition=Purpose.model_validate(row.definition),
    )


def receipt(appended: Appended) -> AuditReceipt:
    """The change's leaf: its index and standard base64 leaf hash."""
    leaf_hash = base64.b64encode(appended.leaf_hash).decode("ascii")
    return AuditReceipt(leaf_index=appended.leaf_index, leaf_hash=leaf_hash)


def party_changed(logged: Logged[Party]) -> Changed[PartyOut]:
    return Changed[PartyOut](entry=party_out(logged.row), audit=receipt(logged.appended))


def basis_changed(
    client_id: str, logged: Logged[LegalBasis], today: date
) -> Changed[LegalBasisOut]:
    entry = legal_basis_out(client_id, logged.row, today)
    return Changed[LegalBasisOut](entry=entry, audit=receipt(logged.appended))


def purpose_changed(logged: Logged[PurposeVersion]) -> Changed[PurposeOut]:
    return Changed[PurposeOut](entry=purpose_out(logged.row), audit=receipt(logged.appended))
