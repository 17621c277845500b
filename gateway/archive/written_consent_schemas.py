"""Bodies of the written consents records rest on (Art. 62 para. 2): a subject's collection
consent, a providing unit's registered document, and what the gateway holds of either."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from gateway.archive.models import WrittenConsentRow
from gateway.archive.written_consents import DocumentRegistration
from gateway.consents.schemas import Code, SubjectIn, WrittenConsentIn
from gateway.consents.written_consent import Confirmation
from gateway.validation import Identifier, StrictBody
from redaction.ingest import SubjectReference

Reference = Annotated[
    Identifier,
    Field(min_length=1, max_length=128, pattern=r"^\S+$", description="The unit's reference"),
]


class CollectionConsentIn(WrittenConsentIn):
    """The subject's written consent to one providing unit collecting one restricted category."""

    provider: Code = Field(description="The providing unit's client id")

    def confirmation(self) -> Confirmation:
        return Confirmation(self.category, self.text_version)


class WithdrawalIn(StrictBody):
    provider: Code
    reference: Reference


class DocumentIn(StrictBody):
    """A signed written consent the providing unit holds, registered under its reference."""

    reference: Reference
    subject: SubjectIn
    category: Code = Field(description="A restricted category: income, savings, securities ...")
    signed_on: date

    def registration(self) -> DocumentRegistration:
        subject = SubjectReference(
            self.subject.kind, self.subject.value, self.subject.document_type
        )
        return DocumentRegistration(self.reference, subject, self.category, self.signed_on)


class WrittenConsentOnFileOut(BaseModel):
    """A written consent on file: a record names it by provider and reference."""

    provider: str
    reference: str
    category: str
    source: str = Field(description="collection (given in the gateway) or document (registered)")
    text_version: str | None
    signed_on: date | None
    given_at: datetime
    withdrawn_at: datetime | None


class WrittenConsentsOnFileOut(BaseModel):
    written_consents: list[WrittenConsentOnFileOut]


def on_file_out(row: WrittenConsentRow) -> WrittenConsentOnFileOut:
    return WrittenConsentOnFileOut.model_validate(row, from_attributes=True)
