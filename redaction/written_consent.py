"""Art. 62 para. 2: a record's written-consent reference resolves to a written consent that
exists - one the subject gave through the gateway to that providing unit for that category (a
collection consent), or a signed document the providing unit registered for that subject and
category - and was not withdrawn.

:func:`check_written_consent` is pure: the gateway looks the reference up among the providing
unit's written consents and hands over what it found (or None).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from redaction.errors import WrittenConsentUnknown


class WrittenConsentSource(StrEnum):
    COLLECTION = "collection"  # given by the subject in the gateway's own channel
    DOCUMENT = "document"  # a signed document the providing unit registered


@dataclass(frozen=True, slots=True)
class WrittenConsentOnFile:
    """A written consent the gateway holds, as the check needs it."""

    provider: str
    subject_key: str
    category: str
    source: WrittenConsentSource
    withdrawn: bool


def check_written_consent(
    on_file: WrittenConsentOnFile | None, *, provider: str, subject_key: str, category: str
) -> None:
    """Raise :class:`~redaction.errors.WrittenConsentUnknown` unless ``on_file`` is a written
    consent of ``provider`` for this subject and category, still in force."""
    if on_file is None or on_file.provider != provider:
        raise WrittenConsentUnknown(
            "the written-consent reference names no written consent on file"
        )
    if on_file.subject_key != subject_key or on_file.category != category:
        raise WrittenConsentUnknown(
            "the written consent referred to was given for another subject or category"
        )
    if on_file.withdrawn:
        raise WrittenConsentUnknown("the written consent referred to was withdrawn")
