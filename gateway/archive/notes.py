"""Art. 32: when a legal person or unincorporated organization enters the serious
untrustworthiness list, a note is made in the credit records of its responsible persons.

The listing is a record of the catalog item ``serious_untrustworthy_list`` about an entity. The
responsible persons are its legal representative as enrolled (:mod:`gateway.parties`) and the
persons the record names in its fields ``principal_responsible_person_id``,
``actual_controller_id`` and ``directly_responsible_person_id`` (ID numbers). Each gets one note
pointing at the listing record (``responsibility_notes``), registered in the audit log under
the person's subject (kind ``responsibility_note``, so it is in their access log), and shown in
their own credit report (``responsibility_notes``) while the listing is displayed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam
from sqlalchemy import select as select_columns
from sqlmodel import select

from audit.leaf import AuditEvent, EventKind, Outcome
from gateway.archive.models import RecordRow, ResponsibilityNote
from gateway.audit_log.models import table
from gateway.audit_log.service import seal
from gateway.parties.accounts import person_identifier
from gateway.parties.models import Citizen, Entity
from gateway.subjects import subject_key
from redaction.identifiers import IdentifierKind, SubjectIdentifier, SubjectKind, parse_identifier
from redaction.records import RecordStatus

if TYPE_CHECKING:
    from gateway.archive.service import ArchiveDesk

SERIOUS_LIST = "serious_untrustworthy_list"
LEGAL_REPRESENTATIVE = "legal_representative"
NAMED_PERSONS: Mapping[str, str] = {
    "principal_responsible_person_id": "principal_responsible_person",
    "actual_controller_id": "actual_controller",
    "directly_responsible_person_id": "directly_responsible_person",
}


@dataclass(frozen=True)
class Listing:
    """A stored record that may list an entity: its row, subject and fields."""

    row: RecordRow
    subject: SubjectIdentifier
    fields: Mapping[str, str]


def note_responsible_persons(
    desk: ArchiveDesk, listings: Sequence[Listing]
) -> list[ResponsibilityNote]:
    """The Art. 32 notes of the listings that put an entity on the serious untrustworthiness
    list, each registered in the audit log; the caller stores them with the listing records,
    after the log (which must go before anything is written)."""
    notes = []
    for listing in listings:
        if listing.row.item_code != SERIOUS_LIST:
            continue
        if listing.subject.subject_kind is not SubjectKind.LEGAL:
            continue
        notes += [
            _note(desk, listing.row, identifier, role)
            for identifier, role in _responsible(desk, listing).items()
        ]
    return notes


def _responsible(desk: ArchiveDesk, listing: Listing) -> dict[SubjectIdentifier, str]:
    persons: dict[SubjectIdentifier, str] = {}
    for field, role in NAMED_PERSONS.items():
        value = listing.fields.get(field)
        if value:  # validated as an ID number with the record
            number = parse_identifier(IdentifierKind.ID_NUMBER, value, on=desk.now.date())
            persons.setdefault(number, role)
    statement = select(Entity).where(Entity.credit_code == listing.subject.value)
    entity = desk.session.exec(statement).first()
    representative = desk.session.get(Citizen, entity.representative_id) if entity else None
    if representative is not None:
        persons[person_identifier(representative, desk.now)] = LEGAL_REPRESENTATIVE
    return persons


def _note(
    desk: ArchiveDesk, row: RecordRow, person: SubjectIdentifier, role: str
) -> ResponsibilityNote:
    key = subject_key(desk.keys, person)
    sealed = seal(key)
    desk.audit_log.append(
        AuditEvent(
            time_ms=int(desk.now.timestamp() * 1000),
            kind=EventKind.RESPONSIBILITY_NOTE,
            channel=None,
            requester=row.provider,
            legal_basis="",
            grant_id="",
            purpose=SERIOUS_LIST,
            item_categories=frozenset(),
            outcome=Outcome.ALLOWED,
            reason_code=role,
            subject_commitment=sealed.subject_commitment,
        ),
        sealed.openings,
    )
    return ResponsibilityNote(
        note_id=f"rn_{uuid.uuid4().hex}",
        person_key=key,
        record_id=row.record_id,
        role=role,
        noted_at=desk.now,
    )


def as_shown(rows: Iterable[Any]) -> list[dict[str, str]]:
    """Rows of :data:`NOTES_ABOUT` as the self report shows them."""
    return [
        {
            "record_id": row.record_id,
            "role": row.role,
            "item_code": row.item_code,
            "source": row.provider,
            "noted_at": row.noted_at.isoformat(),
        }
        for row in rows
    ]


_NOTED, _RECORDS = table(ResponsibilityNote), table(RecordRow)
NOTES_ABOUT = (
    select_columns(
        _NOTED.c.record_id,
        _NOTED.c.role,
        _RECORDS.c.item_code,
        _RECORDS.c.provider,
        _NOTED.c.noted_at,
    )
    .join(_RECORDS, _RECORDS.c.record_id == _NOTED.c.record_id)
    .where(
        _NOTED.c.person_key == bindparam("person_key"),
        _RECORDS.c.status == RecordStatus.ACTIVE.value,
        _RECORDS.c.purged_at.is_(None),
    )
)
"""The notes about the person ``person_key`` whose listing is still displayed, each one
record's (read on the self inquiry's path, :mod:`gateway.inquiries.reads`, by ``noted_at``)."""
