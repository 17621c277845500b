"""The consent API's bodies (Art. 61(2), 62): what establishments and citizens send and see.

Limits on sizes are schema checks (422 with the location of the problem); whether a request
amounts to a single lifetime authorization is the consent core's decision (422, Art. 61(2)),
so ``validity_days`` and ``max_uses`` are optional here and a missing one is refused there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from consent.grants import GrantState
from consent.lifecycle import effective_state
from consent.purposes import LocalizedText
from gateway.consents.repository import StoredGrant
from gateway.consents.service import CitizenGrant, ConsentRequest, SubjectRef
from gateway.consents.written_consent import Confirmation
from gateway.validation import Identifier, StrictBody
from redaction.identifiers import IdentifierKind, OtherDocumentType

Code = Annotated[Identifier, Field(min_length=1, max_length=64)]
MAX_ITEMS = 32


class SubjectIn(StrictBody):
    """A credit subject by its archive index (Art. 34)."""

    kind: IdentifierKind
    value: Identifier = Field(min_length=1, max_length=64)
    document_type: OtherDocumentType | None = Field(
        None, description="Only for kind other_document (Art. 34 para. 2)"
    )


class ConsentRequestIn(StrictBody):
    """A consent request: one subject, one purpose, explicit categories, bounded validity and
    uses. Several subjects or requesters are refused (Art. 61(2))."""

    subject: SubjectIn | None = None
    subjects: list[SubjectIn] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Refused unless one subject"
    )
    requesters: list[Code] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="Other requesting establishments: refused unless it is the caller",
    )
    purpose: Code
    categories: list[Code] = Field(default_factory=list, max_length=MAX_ITEMS)
    validity_days: int | None = Field(None, description="Days from approval; required")
    max_uses: int | None = Field(None, description="Maximum number of inquiries; required")
    auto_renew: bool = Field(False, description="Always refused: a lifetime authorization")

    def to_request(self) -> ConsentRequest:
        subjects = ([self.subject] if self.subject else []) + self.subjects
        return ConsentRequest(
            subjects=tuple(SubjectRef(s.kind, s.value, s.document_type) for s in subjects),
            other_requesters=tuple(self.requesters),
            purpose=self.purpose,
            categories=tuple(self.categories),
            validity_days=self.validity_days,
            max_uses=self.max_uses,
            auto_renew=self.auto_renew,
        )


class WrittenConsentIn(StrictBody):
    """The separate written consent to one restricted category (Art. 62 para. 2-3)."""

    category: Code
    text_version: Code = Field(description="The version of the text read and confirmed")
    confirmed: Literal[True]


SecondFactorProof = Annotated[
    Identifier | None,
    Field(
        max_length=4096,
        description="The proof POST /v1/me/second-factor/proofs issued for this very decision; "
        "without it the decision is refused (403, Art. 61(2))",
    ),
]


class DecisionIn(StrictBody):
    """A decision that needs a fresh second factor (Art. 61(2))."""

    second_factor: SecondFactorProof = None


class ApprovalIn(DecisionIn):
    categories: list[Code] = Field(min_length=1, max_length=MAX_ITEMS)
    written_consents: list[WrittenConsentIn] = Field(default_factory=list, max_length=MAX_ITEMS)

    def confirmations(self) -> list[Confirmation]:
        return [Confirmation(w.category, w.text_version) for w in self.written_consents]


class ConsentCreated(BaseModel):
    grant_id: str
    state: str
    pending_until: datetime


class WrittenConsentOut(BaseModel):
    category: str
    text_version: str
    signed_at: datetime


class ConsentView(BaseModel):
    """A grant: its state at the time of the answer, what was asked and what was granted."""

    grant_id: str
    state: str
    purpose: str
    requested_categories: list[str]
    granted_categories: list[str]
    written_consents: list[WrittenConsentOut]
    validity_days: int
    max_uses: int
    uses: int
    uses_left: int
    requested_at: datetime
    pending_until: datetime
    not_before: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    artefact: str | None = Field(
        description="The signed consent artefact (typ consent+jwt) while the consent is "
        "active; verify it offline with the keys of GET /oauth/jwks"
    )


class EstablishmentConsent(ConsentView):
    subject: str = Field(description="Your pseudonym of the subject (never the identifier)")


class CitizenConsent(ConsentView):
    requester: str
    requester_name: str
    purpose_description: LocalizedText


class CitizenConsents(BaseModel):
    consents: list[CitizenConsent]


class SignedReceiptOut(BaseModel):
    receipt: dict[str, Any] = Field(description="Kantara Consent Receipt v1.1 with extensions")
    jws: str = Field(description="The receipt signed (typ consent-receipt+jwt)")


class WrittenConsentTextsOut(BaseModel):
    version: str
    texts: dict[str, LocalizedText]


def consent_created(stored: StoredGrant) -> ConsentCreated:
    grant = stored.grant
    return ConsentCreated(
        grant_id=grant.grant_id, state=grant.state.value, pending_until=grant.pending_until
    )


def _view_fields(stored: StoredGrant, now: datetime) -> dict[str, Any]:
    grant = stored.grant
    state = effective_state(grant, now)
    return {
        "grant_id": grant.grant_id,
        "state": state.value,
        "purpose": grant.purpose,
        "requested_categories": sorted(grant.requested_categories),
        "granted_categories": sorted(grant.granted_categories),
        "written_consents": [
            WrittenConsentOut(
                category=c.category, text_version=c.text_version, signed_at=c.signed_at
            )
            for c in grant.written_consents
        ],
        "validity_days": grant.validity_days,
        "max_uses": grant.max_uses,
        "uses": grant.uses,
        "uses_left": max(grant.max_uses - grant.uses, 0),
        "requested_at": grant.requested_at,
        "pending_until": grant.pending_until,
        "not_before": grant.not_before,
        "expires_at": grant.expires_at,
        "revoked_at": grant.revoked_at,
        "artefact": stored.artefact if state is GrantState.ACTIVE else None,
    }


def establishment_consent(stored: StoredGrant, now: datetime) -> EstablishmentConsent:
    return EstablishmentConsent(**_view_fields(stored, now), subject=stored.subject_pseudonym)


def citizen_consent(citizen_grant: CitizenGrant, now: datetime) -> CitizenConsent:
    stored = citizen_grant.stored
    return CitizenConsent(
        **_view_fields(stored, now),
        requester=stored.grant.requester,
        requester_name=citizen_grant.requester_name,
        purpose_description=citizen_grant.purpose_description,
    )
