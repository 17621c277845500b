"""Art. 61(3), 62 para. 1 and 65: changes of a stored record — their reason, and the notice
that its basis document was revoked, modified or declared void.

A correction or revocation states its reason (Art. 63: the subject may know why information
changed). :func:`checked_reason` normalizes it and refuses control characters and any mention
of a prohibited category (Art. 62 para. 1: the reason is served to the subject like a field).

When the legally effective document an untrustworthiness record rests on (Art. 27) is revoked,
modified or declared void, the providing unit notifies the working body within five working days
of that change, and the working body revokes or modifies the record within two working days of
the notice. The gateway applies the notice at once, so only the first deadline can be missed.

:func:`basis_change_notice` turns a providing unit's report into a :class:`BasisChange`: what
happened to the document, the day it happened, and the day the notice reached the gateway (the
day of receipt, never a date the unit states). Both days are kept so that a late notice can be
shown to regulators. Only a record that rests on a basis document changes this way
(:func:`check_revocable`), and what it becomes follows the document (:func:`status_after`): a
document revoked or declared void revokes the record - also one restored meanwhile, whose
restoration rested on the document too; a document *modified* modifies the record - a new version
with the modified content, which the notice must carry, in the status the record had.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from problems.text import unreadable
from redaction.errors import BasisDocumentRequired, InvalidFieldValue, ProhibitedInformation
from redaction.ingest import BasisDocument
from redaction.periods import local_date
from redaction.prohibited import find_prohibited
from redaction.records import RecordStatus

ARTICLE = "Art. 65"
MAX_REASON = 500


class BasisStatus(StrEnum):
    """What happened to the basis document."""

    REVOKED = "revoked"
    MODIFIED = "modified"
    VOIDED = "voided"


@dataclass(frozen=True, slots=True)
class BasisChange:
    status: BasisStatus
    changed_on: date
    notice_on: date


def checked_reason(reason: str) -> str:
    """The stated reason of a change, stripped; raise if it is empty, too long or unlawful."""
    text = reason.strip()
    if not 0 < len(text) <= MAX_REASON or unreadable(text, single_line=False):
        raise InvalidFieldValue(f"a change states its reason in 1 to {MAX_REASON} characters")
    category = find_prohibited(text)
    if category is not None:
        raise ProhibitedInformation(f"the reason mentions {category} information")
    return text


def check_revocable(basis: BasisDocument | None) -> None:
    """Raise unless the record rests on a basis document whose change Art. 65 is about."""
    if basis is None:
        raise BasisDocumentRequired(
            "only a record resting on a basis document is revoked for that document's change",
            article=ARTICLE,
        )


def basis_change_notice(
    status: BasisStatus, changed_on: date, *, received_at: datetime, modified_content: bool
) -> BasisChange:
    """The notice as received at ``received_at``; the change cannot lie after the notice, and
    a modified document comes with the record's modified content (only it does)."""
    notice_on = local_date(received_at)
    if changed_on > notice_on:
        raise InvalidFieldValue(
            "the basis document's change cannot lie after the day of the notice", article=ARTICLE
        )
    if modified_content != (status is BasisStatus.MODIFIED):
        raise InvalidFieldValue(
            "a modified basis document comes with the record's modified content, a revoked or "
            "voided one without",
            article=ARTICLE,
        )
    return BasisChange(status, changed_on, notice_on)


CHANGEABLE = frozenset({RecordStatus.ACTIVE, RecordStatus.RESTORED})
"""The statuses in which a record follows its basis document: active, and restored (Art. 66)."""


def status_after(status: RecordStatus, change: BasisStatus) -> RecordStatus:
    """The record's status once its basis document was ``change``d: revoked when the document
    was revoked or declared void, unchanged (its content modified) when it was modified."""
    return status if change is BasisStatus.MODIFIED else RecordStatus.REVOKED
