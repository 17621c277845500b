"""Consent grants as values: one subject, one requesting establishment, one purpose, explicit
categories, a validity window and a maximum number of inquiries (Art. 61(2)), with the
separate written consents restricted categories need (Art. 62 para. 2-3).

Every change of a grant is a :class:`Transition`: the new grant and the
:class:`GrantEvent` the gateway appends to the audit log and sends to the webhook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from consent.jws import timestamp

GATEWAY_ACTOR = "gateway"
"""``actor_role`` of events the gateway itself causes (expiry, exhaustion)."""


class GrantState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    PAUSED = "paused"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"


class EventKind(StrEnum):
    """What happened to a grant; every kind but ``requested`` is also a transition."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    PAUSED = "paused"
    RESUMED = "resumed"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"


class SubjectKind(StrEnum):
    NATURAL_PERSON = "natural_person"
    LEGAL_PERSON = "legal_person"


@dataclass(frozen=True)
class WrittenConsent:
    """The subject's separate written consent to one restricted category (Art. 62)."""

    category: str
    text_version: str
    signed_at: datetime

    def as_claim(self) -> dict[str, object]:
        return {
            "category": self.category,
            "text_version": self.text_version,
            "signed_at": timestamp(self.signed_at),
        }


@dataclass(frozen=True)
class Grant:
    """A consent grant. ``subject_key`` is the gateway's opaque key for the subject.

    ``granted_categories``, ``written_consents``, ``not_before`` and ``expires_at`` are set
    when the subject approves; the validity window starts at approval. ``uses`` is the
    storage's count of inquiries made under the grant.
    """

    grant_id: str
    requester: str
    subject_key: str
    subject_kind: SubjectKind
    purpose: str
    requested_categories: frozenset[str]
    validity_days: int
    max_uses: int
    requested_at: datetime
    pending_until: datetime
    state: GrantState = GrantState.PENDING
    granted_categories: frozenset[str] = frozenset()
    written_consents: tuple[WrittenConsent, ...] = ()
    not_before: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    uses: int = 0


@dataclass(frozen=True)
class GrantEvent:
    """A lifecycle event: appended to the audit log and sent to the webhook as ``as_json``."""

    kind: EventKind
    grant_id: str
    actor_role: str
    at: datetime
    categories: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "grant_id": self.grant_id,
            "actor_role": self.actor_role,
            "at": self.at.isoformat(),
            "categories": list(self.categories),
        }


@dataclass(frozen=True)
class Transition:
    """The grant after a change and the event that records it."""

    grant: Grant
    event: GrantEvent
