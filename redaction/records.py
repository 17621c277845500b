"""Art. 41 and 63-66: credit records as the archive holds them, and when their periods end.

A :class:`CreditRecord` is the current version of one record about one subject (the archive
reads records by subject, so the record does not repeat it), with its earlier versions in
``history`` (oldest first; they carry their own fields, source, status and change reason, and no
history of their own). Status follows the record's life: ``active``; ``revoked`` when its basis
document was revoked or declared void (Art. 65); ``restored`` after credit restoration
(Art. 66); ``deleted`` when an objection found it wrong (Art. 64). Statuses are never removed:
history is append-only (Art. 61(3)).

Periods run from the record's decision date, or from the date the conduct occurred when there is
no decision (:attr:`CreditRecord.period_start`). :func:`past_retention` tells a purge job which
records nothing may be served about any more (Art. 41 para. 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from redaction.catalog import Catalog, CatalogItem
from redaction.statements import SubjectStatement


class RecordStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    RESTORED = "restored"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class CreditRecord:
    record_id: str
    item_code: str
    version: int
    fields: Mapping[str, str]
    source: str
    occurred_on: date
    decided_on: date | None = None
    status: RecordStatus = RecordStatus.ACTIVE
    under_objection: bool = False
    change_reason: str | None = None
    history: tuple[CreditRecord, ...] = ()
    statements: tuple[SubjectStatement, ...] = ()
    """What the subject attached to the record (Art. 37 para. 2), oldest first."""

    @property
    def period_start(self) -> date:
        return self.decided_on or self.occurred_on

    @property
    def versions(self) -> tuple[CreditRecord, ...]:
        """Every version held, oldest first, ending with this one."""
        return (*self.history, self)


def display_ends_on(record: CreditRecord, item: CatalogItem) -> date:
    """The first day the record is no longer displayed (Art. 41 para. 2, Art. 67)."""
    return item.display_period.after(record.period_start)


def retention_ends_on(record: CreditRecord, item: CatalogItem) -> date:
    """The first day nothing about the record may be served through any channel."""
    return item.retention_period.after(record.period_start)


def past_retention(
    records: Iterable[CreditRecord], catalog: Catalog, on: date
) -> tuple[CreditRecord, ...]:
    """The records whose retention period has ended on ``on``, for a purge job.

    Records of items the catalog no longer declares are not returned: their retention period is
    unknown, and they are never served anyway (Art. 35).
    """
    return tuple(
        record
        for record in records
        if (item := catalog.get(record.item_code)) is not None
        and retention_ends_on(record, item) <= on
    )
