"""The inquiry API's bodies (Art. 39 para. 2): what requesters send and what they are served.

Sizes and vocabularies are schema checks (422 with the location of the problem). Whether an
inquiry is admitted - a grant that covers it, a legal basis of the agency's own and a case
reference, the sharing scope - is the channel's decision, registered in the audit log: so the
legal basis and the case reference are optional here and a missing one is refused there.

Every answer is the redaction view of :mod:`redaction.engine` with the channel's own members
and the receipt ``audit``: the leaf's index and RFC 9162 leaf hash. The leaf commits to the
answer's exact bytes without ``audit``: keys sorted, no whitespace, UTF-8.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from consent.rfc9068 import AccessToken
from gateway.consents.schemas import SubjectIn
from gateway.consents.service import SubjectRef
from gateway.inquiries.access_log import AccessEntry, AccessLog
from gateway.inquiries.service import Statement
from gateway.validation import Identifier, StrictBody, Text
from redaction.catalog import ScopeCategory
from redaction.identifiers import IdentifierKind, OtherDocumentType, classify_identifier
from redaction.policies import Channel
from redaction.statements import StatementKind

# What an inquiry states is registered in the audit log as given, so it must be a code and
# never free text that could carry a name or an identifier (a case reference is committed to).
GrantId = Annotated[Identifier, Field(pattern=r"^cg_[A-Za-z0-9_-]{1,61}$", description="cg_...")]
PurposeCode = Annotated[Identifier, Field(pattern=r"^[a-z][a-z0-9_]{2,63}$")]
BasisCode = Annotated[Identifier, Field(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
MAX_CATEGORIES = len(ScopeCategory)


def _ref(subject: SubjectIn) -> SubjectRef:
    return SubjectRef(subject.kind, subject.value, subject.document_type)


Categories = Annotated[list[ScopeCategory], Field(max_length=MAX_CATEGORIES)]


class AuthorizedInquiryIn(StrictBody):
    """An inquiry within a consent grant: its subject, purpose and (some of) its categories."""

    grant_id: GrantId
    subject: SubjectIn
    purpose: PurposeCode = Field(description="The grant's purpose")
    categories: Categories = Field(min_length=1)

    def to_statement(self, caller: AccessToken) -> Statement:
        return Statement(
            Channel.AUTHORIZED,
            caller,
            _ref(self.subject),
            grant_id=self.grant_id,
            purpose=self.purpose,
            categories=frozenset(self.categories),
        )


class SharingInquiryIn(StrictBody):
    """Government affairs sharing: categories the catalog shares with the agency's sector, for
    the duty the inquiry states (Art. 40 para. 1; refused with the article when missing)."""

    subject: SubjectIn
    categories: Categories = Field(min_length=1)
    duty: Text | None = Field(
        None,
        max_length=200,
        description="The duty the information serves; registered only as a commitment",
    )

    def to_statement(self, caller: AccessToken) -> Statement:
        return Statement(
            Channel.SHARING,
            caller,
            _ref(self.subject),
            categories=frozenset(self.categories),
            duty=(self.duty or "").strip(),
        )


class AuthorityInquiryIn(StrictBody):
    """An inquiry based on authority: one of the agency's registered legal bases and the case
    it acts in, both required (refused with the article when missing); no categories means
    every category the legal basis allows."""

    subject: SubjectIn
    legal_basis: BasisCode | None = Field(None, description="A registered basis code")
    case_reference: Identifier | None = Field(
        None, max_length=200, description="The case; registered only as a commitment"
    )
    categories: Categories = Field(default_factory=list)

    def to_statement(self, caller: AccessToken) -> Statement:
        return Statement(
            Channel.AUTHORITY,
            caller,
            _ref(self.subject),
            categories=frozenset(self.categories),
            legal_basis=self.legal_basis or "",
            case_reference=(self.case_reference or "").strip(),
        )


def public_statement(
    identifier: str, kind: IdentifierKind | None, document_type: OtherDocumentType | None
) -> Statement:
    """A public lookup; without ``kind``, the identifier is an ID number if it is a valid
    GB 11643 number, a credit code if it is a valid GB 32100 code (refused when neither, or
    both: then the caller names the kind)."""
    if kind is None:
        found = classify_identifier(identifier, on=datetime.now(UTC).date())
        kind, identifier = found.kind, found.value
    return Statement(Channel.PUBLIC, None, SubjectRef(kind, identifier, document_type))


class AuditReceipt(BaseModel):
    leaf_index: int = Field(description="The inquiry's index in the audit log")
    leaf_hash: str = Field(description="Standard base64 of its RFC 9162 leaf hash")


class RedactionOut(BaseModel):
    """Something left out or changed, why, and the article that required it."""

    action: str
    reason: str
    article: str
    record_id: str | None = None
    item_code: str | None = None
    version: int | None = None
    field: str | None = None


class SubjectStatementOut(BaseModel):
    """What the subject attached to the record (Art. 37 para. 2), labelled as their own."""

    by: Literal["credit_subject"] = Field(description="Always the credit subject, not the unit")
    kind: StatementKind
    text: str
    made_on: date


class ItemOut(BaseModel):
    record_id: str
    item_code: str
    scope_category: ScopeCategory
    version: int
    source: str = Field(description="The providing unit the information came from (Art. 63)")
    occurred_on: date
    decided_on: date | None
    fields: dict[str, str]
    labels: list[str] = Field(description="under_objection (Art. 64), revoked, restored")
    change_reason: str | None = Field(description="Why this version changed (self view only)")
    history: list[ItemOut] = Field(description="Earlier versions, oldest first (self view only)")
    subject_statements: list[SubjectStatementOut] = Field(
        description="The subject's own statements, self-declarations and pledges on the record "
        "(Art. 37 para. 2), in every channel that serves it"
    )


class CreditReport(BaseModel):
    """What one inquiry may see of a subject's file (Art. 39-41, 62-66)."""

    channel: Channel
    subject: str = Field(description="The subject's index, or a pseudonym (public view)")
    catalog_version: str
    items: list[ItemOut]
    redactions: list[RedactionOut]
    audit: AuditReceipt


class ResponsibilityNoteOut(BaseModel):
    """Art. 32: an entity the person is responsible for was put on the serious
    untrustworthiness list by the listing record ``record_id``."""

    record_id: str
    role: str = Field(
        description="legal_representative, principal_responsible_person, actual_controller "
        "or directly_responsible_person"
    )
    item_code: str
    source: str = Field(description="The providing unit that listed the entity")
    noted_at: datetime


class SelfReport(CreditReport):
    """The subject's own file (Art. 63), with its Art. 32 notes."""

    responsibility_notes: list[ResponsibilityNoteOut]


class AuthorizedAnswer(CreditReport):
    grant_id: str
    purpose: str


class SharingAnswer(CreditReport):
    sector: str
    duty: str = Field(description="The duty the information serves (Art. 40 para. 1)")
    use_restriction: str = Field(description="Art. 40 para. 1: for the stated duty only")


class AuthorityAnswer(CreditReport):
    legal_basis: str
    case_reference: str
    use_restriction: str = Field(description="Art. 40 para. 1: for the stated duty only")


class InclusionProof(BaseModel):
    tree_size: int = Field(description="The size of the checkpoint the proof leads to")
    hashes: list[str] = Field(description="Standard base64 of each hash, RFC 9162 order")


class AccessEntryOut(BaseModel):
    """One entry of the audit log about the caller: an inquiry or a change of a consent."""

    leaf_index: int
    leaf_hash: str = Field(description="Standard base64 of the RFC 9162 leaf hash")
    time: datetime
    kind: str = Field(
        description="inquiry, consent_change, record_change, objection, notice, report, "
        "notification, factor_change"
    )
    channel: str | None = Field(description="The disclosure channel (Art. 39 para. 1)")
    requester: str = Field(description="Client id; 'public' or 'citizen' for those channels")
    requester_name: str | None = Field(description="The requester's registered name")
    legal_basis: str
    grant_id: str
    purpose: str = Field(
        description="The consent's purpose; case:<commitment> on authority, duty:<commitment> "
        "on sharing"
    )
    categories: list[str]
    outcome: str
    reason: str = Field(description="Why it was refused, or what changed")
    acted_by: str | None = Field(
        None,
        description="For a legal person: the name of its representative or agent who acted",
    )
    inclusion: InclusionProof | None = Field(
        description="Against the served checkpoint; null while pending (newer than it)"
    )


class AccessLogOut(BaseModel):
    """Who queried my information (Art. 63): newest first, each entry provable."""

    checkpoint: str | None = Field(
        description="The latest signed checkpoint (C2SP signed note); null before the first"
    )
    tree_size: int
    entries: list[AccessEntryOut]


def access_log_out(log: AccessLog) -> AccessLogOut:
    size = log.head.size if log.head else 0
    return AccessLogOut(
        checkpoint=log.head.note if log.head else None,
        tree_size=size,
        entries=[_entry_out(entry, size) for entry in log.entries],
    )


def _entry_out(entry: AccessEntry, size: int) -> AccessEntryOut:
    event = entry.event
    return AccessEntryOut(
        leaf_index=entry.leaf_index,
        leaf_hash=_b64(entry.leaf_hash),
        time=datetime.fromtimestamp(event.time_ms / 1000, UTC),
        kind=event.kind.value,
        channel=event.channel.value if event.channel else None,
        requester=event.requester,
        requester_name=entry.requester_name,
        legal_basis=event.legal_basis,
        grant_id=event.grant_id,
        purpose=event.purpose,
        categories=sorted(event.item_categories),
        outcome=event.outcome.value,
        reason=event.reason_code,
        acted_by=entry.actor_name,
        inclusion=None
        if entry.proof is None
        else InclusionProof(tree_size=size, hashes=[_b64(hashed) for hashed in entry.proof]),
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
