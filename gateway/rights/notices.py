"""Art. 67 and 70(8): deletion notices - when information on untrustworthiness stops being
displayed, every credit service establishment that received it is told to stop using it and
delete it, and says so. The article covers information on untrustworthiness only (the catalog's
``untrustworthy`` items): other information whose display ends is not announced.

The gateway knows who received what: every authorized inquiry writes, with its audit entry,
which records of information on untrustworthiness it served to which establishment
(``disclosures``, see :mod:`gateway.inquiries.service`), and no others.
:func:`announce_stopped` - a job of the scheduler - finds the disclosed records whose display
has stopped and that were not announced yet: their display period ended (Art. 41 para. 2), or
they were restored (Art. 66), deleted after an objection (Art. 64) or revoked with their basis
document (Art. 65). For each record it sends exactly one notice to each establishment that
received it (one per record and establishment, unique in the table) - an establishment whose
inquiry committed after a round announced the record to the others is told at the next round -,
registered in the audit log, and queued as a signed webhook in the outbox of
:mod:`gateway.webhooks` - the delivery mechanism of the consent notifications, with its
retries.

The establishment acknowledges the notice through the API (:func:`acknowledge`), within
``GATEWAY_NOTICE_DEADLINE`` working days; regulators see the notices overdue per establishment
(:mod:`gateway.rights.oversight`). The webhook body holds the notice and the record ids the
establishment was served, never the subject.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from audit.leaf import EventKind
from gateway.archive.service import SWEEP_LIMIT, archive_catalog, latest_start_ended
from gateway.rights import repository
from gateway.rights.errors import NoticeNotFound
from gateway.rights.models import DeletionNotice
from gateway.rights.repository import Stopped
from gateway.rights.service import RightsDesk, Step, register
from redaction.catalog import ANNOUNCED_WHEN_STOPPED
from redaction.records import RecordStatus

DELETION_NOTICE = "record.deletion_notice"
"""The webhook event of a deletion notice."""
ACKNOWLEDGEMENT = "/v1/deletion-notices/{notice_id}/acknowledgement"
SENT, ACKNOWLEDGED = "sent", "acknowledged"


class Cause(StrEnum):
    """Why the record is no longer displayed."""

    DISPLAY_PERIOD_ENDED = "display_period_ended"
    RESTORED = "restored"
    DELETED = "deleted"
    REVOKED = "revoked"


_CAUSES = {
    RecordStatus.RESTORED: Cause.RESTORED,
    RecordStatus.DELETED: Cause.DELETED,
    RecordStatus.REVOKED: Cause.REVOKED,
}


def announce_stopped(desk: RightsDesk, limit: int = SWEEP_LIMIT) -> int:
    """Notify the recipients of up to ``limit`` records whose display stopped; returns how many
    notices were sent. Safe to run in several processes at once."""
    today = desk.today
    latest = {
        item.code: latest_start_ended(item.display_period, today)
        for item in archive_catalog().items
        if item.category is ANNOUNCED_WHEN_STOPPED
    }
    stopped = repository.stopped_unannounced(desk.session, latest, limit)
    received = repository.recipients(desk.session, [record.record_id for record in stopped])
    notices = [
        _registered(desk, record, recipient)
        for record in stopped
        for recipient in received.get(record.record_id, [])
    ]
    repository.add_notices(desk.session, notices)
    outbox = desk.outbox()
    for notice in notices:
        outbox.notify(notice.recipient, DELETION_NOTICE, _data(notice), desk.now)
    return len(notices)


def _registered(desk: RightsDesk, record: Stopped, recipient: str) -> DeletionNotice:
    notice = DeletionNotice(
        notice_id=f"dn_{uuid.uuid4().hex}",
        recipient=recipient,
        record_id=record.record_id,
        item_code=record.item_code,
        subject_key=record.subject_key,
        cause=_CAUSES.get(record.status, Cause.DISPLAY_PERIOD_ENDED).value,
        stopped_on=desk.today,
        created_at=desk.now,
        due_on=desk.deadlines.notice_due(desk.today),
        sent_leaf=0,
    )
    notice.sent_leaf = register(desk, notice_step(notice, SENT))
    return notice


def _data(notice: DeletionNotice) -> dict[str, object]:
    return {
        "notice_id": notice.notice_id,
        "record_id": notice.record_id,
        "item_code": notice.item_code,
        "cause": notice.cause,
        "stopped_on": notice.stopped_on.isoformat(),
        "acknowledge_by": notice.due_on.isoformat(),
        "acknowledgement": ACKNOWLEDGEMENT.format(notice_id=notice.notice_id),
        "article": "Art. 67, Art. 70(8)",
    }


def notices_to(desk: RightsDesk, recipient: str, *, pending: bool) -> list[DeletionNotice]:
    return repository.notices_to(desk.session, recipient, pending=pending)


def acknowledge(desk: RightsDesk, recipient: str, notice_id: str) -> DeletionNotice:
    """Register and store the establishment's acknowledgement; acknowledging again changes
    nothing."""
    notice = repository.notice_to(desk.session, recipient, notice_id, lock=True)
    if notice is None:
        raise NoticeNotFound("no such deletion notice to this establishment")
    if notice.acknowledged_at is None:
        leaf = register(desk, notice_step(notice, ACKNOWLEDGED))
        repository.acknowledge(desk.session, notice_id, desk.now, leaf)
    acknowledged = repository.notice_to(desk.session, recipient, notice_id)
    assert acknowledged is not None  # read above
    return acknowledged


def notice_step(notice: DeletionNotice, reason: str) -> Step:
    """The audit step of a notice: sent, acknowledged or overdue, by the establishment's id."""
    document = {**_data(notice), "recipient": notice.recipient, "step": reason}
    return Step(
        EventKind.NOTICE,
        notice.recipient,
        reason,
        notice.cause,
        notice.subject_key,
        notice.item_code,
        document,
    )
