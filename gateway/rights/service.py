"""What the subject-rights services act with, and how each of their steps is registered
(Art. 39 para. 3, Art. 61(3), 63-67).

A :class:`RightsDesk` is one unit of work: the session, the audit log, the keys, the
authorization server (whose key signs webhook notices), the working-day deadlines and the
instant it acts at.

Every step - an objection filed, answered or overdue; a deletion notice sent, acknowledged or
overdue - is one audit leaf (:func:`register`), appended before anything is written and before
the answer, like every change of the gateway: the leaf holds the kind of step, the party that
acts or must act (a client id, or ``citizen``), the objection's kind or the notice's cause,
the item's scope category, and commitments to the subject (sealed by
:func:`gateway.audit_log.service.seal`, so the step is in the subject's access log) and to the
step's document - never the subject, a reason or a field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from audit.leaf import AuditEvent, EventKind, Outcome
from gateway.archive.service import ArchiveDesk, archive_catalog
from gateway.audit_log.service import AuditLog, seal
from gateway.inquiries.service import canonical_json
from gateway.keys import GatewayKeys
from gateway.oauth.service import AuthServer
from gateway.rights.deadlines import SHIPPED_CALENDAR, WorkingCalendar, load_calendar
from gateway.settings import Settings
from gateway.webhooks.outbox import Outbox
from problems import GatewayError
from redaction.periods import local_date

BASIS_NOTICE_DAYS = 5
"""Art. 65: the providing unit reports a changed basis document within five working days."""


@dataclass(frozen=True)
class Deadlines:
    """The working-day calendar and the periods counted on it, each naming its article."""

    calendar: WorkingCalendar
    objection_days: int
    notice_days: int

    @classmethod
    def of(cls, settings: Settings) -> Deadlines:
        calendar = load_calendar(settings.holiday_calendar or SHIPPED_CALENDAR)
        return cls(calendar, settings.objection_deadline, settings.notice_deadline)

    def objection_due(self, filed_on: date) -> date:
        """The last day for the holder's answer (Art. 64)."""
        return self.calendar.deadline(filed_on, self.objection_days, "Art. 64")

    def notice_due(self, stopped_on: date) -> date:
        """The last day for an establishment's acknowledgement (Art. 67, 70(8))."""
        return self.calendar.deadline(stopped_on, self.notice_days, "Art. 67")

    def basis_report_due(self, changed_on: date) -> date:
        """The last day for the report of a changed basis document (Art. 65)."""
        return self.calendar.deadline(changed_on, BASIS_NOTICE_DAYS, "Art. 65")

    def gap(self, today: date) -> GatewayError | None:
        """The error a deadline counted today would meet: a year no schedule covers."""
        longest = max(self.objection_days, self.notice_days, BASIS_NOTICE_DAYS)
        return self.calendar.gap(today, longest)


@dataclass(frozen=True)
class RightsDesk:
    """What one unit of work acts on the subject rights with, and the instant it acts at."""

    session: Session
    audit_log: AuditLog
    keys: GatewayKeys
    server: AuthServer
    deadlines: Deadlines
    now: datetime

    @property
    def today(self) -> date:
        """The day in the province's calendar (China Standard Time)."""
        return local_date(self.now)

    def archive(self) -> ArchiveDesk:
        return ArchiveDesk(self.session, self.audit_log, self.keys, self.now)

    def outbox(self) -> Outbox:
        return Outbox(self.session, self.server.keyring, self.server.context.issuer)


@dataclass(frozen=True)
class Step:
    """One step to register: its kind (objection or notice), who acts or must act, what it is
    (``reason``: filed, corrected, sent, acknowledged, overdue ...), what it concerns
    (``purpose``: the objection's kind or the notice's cause), the subject's internal key
    (None: never linkable to anyone), the catalog item, and the document committed to."""

    kind: EventKind
    requester: str
    reason: str
    purpose: str
    subject_key: str | None
    item_code: str | None
    document: Mapping[str, object]
    actor: str = ""


def register(desk: RightsDesk, step: Step) -> int:
    """Append ``step`` to the audit log; its leaf index once durable (fails closed)."""
    linkable = step.subject_key is not None
    document = canonical_json(step.document) if linkable else None
    sealed = seal(step.subject_key or "", document, linkable=linkable)
    item = archive_catalog().get(step.item_code or "")
    event = AuditEvent(
        time_ms=int(desk.now.timestamp() * 1000),
        kind=step.kind,
        channel=None,
        requester=step.requester,
        legal_basis="",
        grant_id="",
        purpose=step.purpose,
        item_categories=frozenset({item.scope_category.value}) if item else frozenset(),
        outcome=Outcome.ALLOWED,
        reason_code=step.reason,
        subject_commitment=sealed.subject_commitment,
        response_commitment=sealed.response_commitment,
        actor=step.actor,
    )
    return desk.audit_log.append(event, sealed.openings).leaf_index
