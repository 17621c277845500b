"""The written consents records rest on (Art. 62 para. 2), and their check at ingestion.

A providing unit collects restricted information (income, savings, securities, commercial
insurance, real estate, taxes paid) only with the subject's written consent. The gateway holds
two kinds, each under the providing unit's reference a record's ``written_consent_ref`` names:

* a **collection consent** the subject gives in the gateway's own channel (API or portal, the
  same citizen caller a consent approval needs - :data:`gateway.auth.CitizenCaller`) to one
  providing unit for one restricted category, confirming the current consequences text
  (:mod:`gateway.consents.written_consent`); the gateway assigns the reference;
* a **registered document**: a signed written consent the providing unit holds on paper or
  electronically and registers, for a subject and a category, under its own reference.

The subject lists both and may withdraw either; a withdrawn consent no longer admits records.
Each change is first appended to the audit log (a consent change naming the providing unit,
the category and a commitment to the subject), then written in the request's unit of work.
The check at ingestion and correction is :func:`gateway.archive.service.check_record_consent`:
an unknown, foreign, mismatched or withdrawn reference is refused
(:class:`redaction.errors.WrittenConsentUnknown`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from audit.leaf import AuditEvent, EventKind, Outcome
from consent.clients import Role
from consent.rfc9068 import AccessToken
from gateway.archive.errors import WrittenConsentConflict, WrittenConsentNotFound
from gateway.archive.models import WrittenConsentRow
from gateway.archive.service import ArchiveDesk
from gateway.archive.written_consent_repository import (
    subject_written_consent,
    subject_written_consents,
    written_consent,
)
from gateway.audit_log.service import seal
from gateway.consents.written_consent import Confirmation, written_consents
from gateway.parties.accounts import caller_subject_key
from gateway.parties.repository import party_by_client_id
from gateway.subjects import subject_key
from redaction.catalog import RESTRICTED_CATEGORIES
from redaction.errors import InvalidFieldValue
from redaction.identifiers import parse_identifier
from redaction.ingest import SubjectReference
from redaction.written_consent import WrittenConsentSource

RESTRICTED = frozenset(category.value for category in RESTRICTED_CATEGORIES)


class ConsentChange:
    """The reason codes of the audit leaves of written consents."""

    GIVEN = "written_consent_given"
    REGISTERED = "written_consent_registered"
    WITHDRAWN = "written_consent_withdrawn"


@dataclass(frozen=True)
class DocumentRegistration:
    """A signed written consent a providing unit registers under its own reference."""

    reference: str
    subject: SubjectReference
    category: str
    signed_on: date


def give(
    desk: ArchiveDesk, caller: AccessToken, provider: str, confirmation: Confirmation
) -> WrittenConsentRow:
    """The signed-in subject's collection consent to ``provider`` for one category."""
    key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    party = party_by_client_id(desk.session, provider)
    if party is None or party.role != Role.PROVIDER or party.disabled:
        raise WrittenConsentNotFound("no providing unit by that id")
    (consent,) = written_consents([confirmation], desk.now)
    row = WrittenConsentRow(
        provider=provider,
        reference=f"wc_{uuid.uuid4().hex}",
        subject_key=key,
        category=consent.category,
        source=WrittenConsentSource.COLLECTION.value,
        text_version=consent.text_version,
        given_at=desk.now,
    )
    _log(desk, row, ConsentChange.GIVEN)
    desk.session.add(row)
    return row


def register_document(
    desk: ArchiveDesk, provider: str, registration: DocumentRegistration
) -> tuple[WrittenConsentRow, bool]:
    """The registered document, and whether it is new (the same registration is a replay)."""
    if registration.category not in RESTRICTED:
        raise InvalidFieldValue("a written consent is registered for a restricted category")
    if registration.signed_on > desk.now.date():
        raise InvalidFieldValue("a written consent cannot be signed after the day it is registered")
    subject = registration.subject
    identifier = parse_identifier(
        subject.kind, subject.value, document_type=subject.document_type, on=desk.now.date()
    )
    key = subject_key(desk.keys, identifier)
    known = written_consent(desk.session, provider, registration.reference)
    if known is not None:
        same = (known.source, known.subject_key, known.category, known.signed_on) == (
            WrittenConsentSource.DOCUMENT.value,
            key,
            registration.category,
            registration.signed_on,
        )
        if not same:
            raise WrittenConsentConflict("that reference names another written consent")
        return known, False
    row = WrittenConsentRow(
        provider=provider,
        reference=registration.reference,
        subject_key=key,
        category=registration.category,
        source=WrittenConsentSource.DOCUMENT.value,
        signed_on=registration.signed_on,
        given_at=desk.now,
    )
    _log(desk, row, ConsentChange.REGISTERED)
    desk.session.add(row)
    return row, True


def subject_consents(desk: ArchiveDesk, caller: AccessToken) -> list[WrittenConsentRow]:
    """Every written consent on file about the signed-in subject, of either kind."""
    key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    return subject_written_consents(desk.session, key)


def withdraw(
    desk: ArchiveDesk, caller: AccessToken, provider: str, reference: str
) -> WrittenConsentRow:
    """Withdraw one of the signed-in subject's written consents; withdrawing again is a replay."""
    key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    row = subject_written_consent(desk.session, key, provider, reference)
    if row is None:
        raise WrittenConsentNotFound("no written consent of yours by that reference")
    if row.withdrawn_at is None:
        _log(desk, row, ConsentChange.WITHDRAWN)
        row.withdrawn_at = desk.now
        desk.session.add(row)
    return row


def _log(desk: ArchiveDesk, row: WrittenConsentRow, change: str) -> None:
    """Append the change to the audit log; returns once it is durable (fails closed)."""
    sealed = seal(row.subject_key)
    desk.audit_log.append(
        AuditEvent(
            time_ms=int(desk.now.timestamp() * 1000),
            kind=EventKind.CONSENT_CHANGE,
            channel=None,
            requester=row.provider,
            legal_basis="",
            grant_id=row.reference,
            purpose="",
            item_categories=frozenset({row.category}),
            outcome=Outcome.ALLOWED,
            reason_code=change,
            subject_commitment=sealed.subject_commitment,
        ),
        sealed.openings,
    )
