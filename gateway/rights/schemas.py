"""The subject-rights API's bodies (Art. 64-67, 70(8)): objections and their answers,
restoration decisions, deletion notices, and the regulators' lists of missed deadlines.

Sizes and vocabularies are schema checks (422 with the location of the problem); whether an
objection may be filed or answered is the service's decision, naming its article.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from gateway.archive.models import SubjectStatement
from gateway.archive.repository import BasisNotice
from gateway.archive.schemas import BasisIn, CorrectionIn, Reason
from gateway.consents.schemas import SubjectIn
from gateway.problem_handlers import Problem
from gateway.rights.models import (
    ApplicationState,
    DeletionNotice,
    Objection,
    ObjectionState,
    RestorationApplication,
)
from gateway.rights.objections import (
    Answer,
    AnswerOutcome,
    FiledObjection,
    Filing,
    HeldObjection,
    ObjectionKind,
)
from gateway.rights.oversight import PartyList
from gateway.rights.restoration import Application, Decision
from gateway.rights.service import Deadlines
from gateway.validation import Identifier, StrictBody, Text
from problems import REMEDY
from redaction.periods import local_date
from redaction.statements import MAX_STATEMENT, StatementKind

RecordId = Annotated[Identifier, Field(pattern=r"^rec_[0-9a-f]{32}$", description="rec_...")]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


# -- objections ----------------------------------------------------------------------------


class ObjectionIn(StrictBody):
    """A written objection (Art. 64): a record of one's own file, or - for an omission, or an
    assessment or market information the archive does not hold - the providing unit that holds
    it (and, for an omission, optionally the catalog item missing)."""

    kind: ObjectionKind = Field(
        ObjectionKind.RECORD,
        description="record or omission (para. 1), assessment (para. 2), market_information "
        "(para. 3)",
    )
    record_id: RecordId | None = Field(None, description="The record objected to")
    holder: Identifier | None = Field(
        None, min_length=1, max_length=64, description="Client id of the holder, if no record"
    )
    reason: Reason
    attachment_ref: Identifier | None = Field(
        None,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="A reference to the written application's attachment (number or URL)",
    )
    item_code: Identifier | None = Field(
        None, min_length=1, max_length=64, description="The catalog item missing (omission)"
    )

    def to_filing(self) -> Filing:
        return Filing(
            self.kind,
            self.reason,
            self.record_id,
            self.holder,
            self.attachment_ref,
            self.item_code,
        )


class AnswerIn(StrictBody):
    """The holder's answer and its reasons; ``correction`` carries the corrected record when
    the answer corrects one (its own reason goes to the record's history)."""

    outcome: AnswerOutcome
    reason: Reason
    correction: CorrectionIn | None = None

    def to_answer(self) -> Answer:
        correction = self.correction.to_correction() if self.correction else None
        return Answer(self.outcome, self.reason, correction)


class ObjectionOut(BaseModel):
    objection_id: str
    kind: ObjectionKind
    record_id: str | None
    item_code: str | None
    holder: str = Field(description="Client id of the unit that must answer")
    reason: str
    attachment_ref: str | None
    state: ObjectionState
    filed_at: datetime
    due_on: date = Field(description="The last working day for the answer")
    overdue: bool
    outcome: AnswerOutcome | None
    answer_reason: str | None
    answered_at: datetime | None
    remedy: dict[str, object] | None = Field(
        description="With the answer: administrative reconsideration or litigation (Art. 71)"
    )


class FiledObjectionOut(ObjectionOut):
    holder_name: str


class HeldObjectionOut(ObjectionOut):
    subject: SubjectIn = Field(description="The objecting subject's archive index (Art. 34)")


class FiledObjections(BaseModel):
    objections: list[FiledObjectionOut]


class HeldObjections(BaseModel):
    objections: list[HeldObjectionOut]


def _objection(objection: Objection, today: date) -> dict[str, object]:
    state = ObjectionState(objection.state)
    return {
        **objection.model_dump(exclude={"citizen_id", "subject_key"}),
        "overdue": state is ObjectionState.OPEN and today > objection.due_on,
        "remedy": REMEDY if state is ObjectionState.ANSWERED else None,
    }


def filed_out(filed: FiledObjection, today: date) -> FiledObjectionOut:
    return FiledObjectionOut.model_validate(
        {**_objection(filed.objection, today), "holder_name": filed.holder_name}
    )


def held_out(held: HeldObjection, today: date) -> HeldObjectionOut:
    subject = held.subject
    return HeldObjectionOut.model_validate(
        {
            **_objection(held.objection, today),
            "subject": SubjectIn(
                kind=subject.kind, value=subject.value, document_type=subject.document_type
            ),
        }
    )


# -- the subject's own statements (Art. 37 para. 2) ----------------------------------------


class StatementIn(StrictBody):
    """A statement, self-declaration or pledge about a record of one's own file."""

    record_id: RecordId = Field(description="The record of my file it concerns")
    kind: StatementKind
    text: Text = Field(min_length=1, max_length=MAX_STATEMENT)


class StatementOut(BaseModel):
    statement_id: str
    record_id: str
    kind: StatementKind
    text: str
    made_at: datetime
    by: Literal["credit_subject"] = Field(
        default="credit_subject",
        description="Served with the record, labelled as the subject's own",
    )


class StatementsOut(BaseModel):
    statements: list[StatementOut]


def statement_out(row: SubjectStatement) -> StatementOut:
    return StatementOut.model_validate(row, from_attributes=True)


# -- restoration ---------------------------------------------------------------------------


class RestorationIn(StrictBody):
    """A credit restoration decision on an untrustworthiness record (Art. 66)."""

    reason: Reason
    decision: BasisIn = Field(description="The restoration decision document")


class ApplicationIn(StrictBody):
    """An application for credit restoration (Art. 66 para. 1): a record of one's own file
    on untrustworthiness, and how the obligations were performed and the conduct corrected."""

    record_id: RecordId
    reason: Reason
    attachment_ref: Identifier | None = Field(
        None,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="A reference to the supporting documents (number or URL)",
    )

    def to_application(self) -> Application:
        return Application(self.record_id, self.reason, self.attachment_ref)


class ApplicationDecisionIn(StrictBody):
    """The designating unit's decision, with reasons; an approval names its restoration
    decision document (Art. 66 para. 2)."""

    outcome: Literal["approved", "rejected"]
    reason: Reason
    decision: BasisIn | None = Field(None, description="Required for an approval")

    def to_decision(self) -> Decision:
        document = self.decision.to_basis() if self.decision else None
        return Decision(ApplicationState(self.outcome), self.reason, document)


class ApplicationOut(BaseModel):
    application_id: str
    record_id: str
    state: str = Field(description="pending, approved or rejected")
    reason: str
    attachment_ref: str | None
    filed_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    remedy: dict[str, object] | None = Field(
        description="After a rejection: administrative reconsideration or litigation (Art. 71)"
    )


class ApplicationsOut(BaseModel):
    applications: list[ApplicationOut]


def application_out(filed: RestorationApplication) -> ApplicationOut:
    rejected = filed.state == ApplicationState.REJECTED.value
    return ApplicationOut(
        application_id=filed.application_id,
        record_id=filed.record_id,
        state=filed.state,
        reason=filed.reason,
        attachment_ref=filed.attachment_ref,
        filed_at=filed.filed_at,
        decided_at=filed.decided_at,
        decision_reason=filed.decision_reason,
        remedy=REMEDY if rejected else None,
    )


# -- deletion notices ----------------------------------------------------------------------


class NoticeOut(BaseModel):
    notice_id: str
    record_id: str = Field(description="The record served to you that must be deleted")
    item_code: str
    cause: str = Field(description="display_period_ended, restored, deleted or revoked")
    stopped_on: date
    created_at: datetime
    due_on: date = Field(description="The last working day to acknowledge")
    acknowledged_at: datetime | None


class NoticesOut(BaseModel):
    notices: list[NoticeOut]


def notice_out(notice: DeletionNotice) -> NoticeOut:
    return NoticeOut.model_validate(notice, from_attributes=True)


# -- oversight -----------------------------------------------------------------------------


class OverdueObjection(BaseModel):
    objection_id: str
    kind: ObjectionKind
    record_id: str | None
    item_code: str | None
    filed_on: date
    due_on: date


class OverdueNotice(BaseModel):
    notice_id: str
    record_id: str
    item_code: str
    cause: str
    stopped_on: date
    due_on: date


class LateBasisNotice(BaseModel):
    record_id: str
    item_code: str
    basis_status: str
    basis_changed_on: date = Field(description="The day the basis document changed")
    due_on: date = Field(description="The fifth working day after it")
    notice_on: date = Field(description="The day the report reached the gateway")


class PartyEntries(BaseModel, Generic[M]):
    """What one party is late with: its client id, registered name and entries."""

    client_id: str
    name: str | None
    count: int
    entries: list[M]


class Oversight(BaseModel, Generic[M]):
    as_of: date = Field(description="The day the deadlines were checked on (UTC+08:00)")
    calendar_gap: Problem | None = Field(
        description="A deadline counted today would fall in a year no holiday schedule covers: "
        "the operator must add its schedule (null when none does)"
    )
    parties: list[PartyEntries[M]]


def oversight_out(
    model: type[Oversight[M]],
    deadlines: Deadlines,
    today: date,
    parties: list[PartyList[T]],
    convert: Callable[[T], M],
) -> Oversight[M]:
    """The regulators' list: per party, its entries shaped by ``convert``; with the calendar's
    gap, if a deadline counted today cannot be."""
    gap = deadlines.gap(today)
    return model(
        as_of=today,
        calendar_gap=None if gap is None else Problem(**gap.to_problem()),
        parties=[
            PartyEntries[M](
                client_id=party.client_id,
                name=party.name,
                count=len(party.entries),
                entries=[convert(row) for row in party.entries],
            )
            for party in parties
        ],
    )


def overdue_notice(notice: DeletionNotice) -> OverdueNotice:
    return OverdueNotice.model_validate(notice, from_attributes=True)


def overdue_objection(objection: Objection) -> OverdueObjection:
    return OverdueObjection.model_validate(
        {**objection.model_dump(), "filed_on": local_date(objection.filed_at)}
    )


def late_basis_notice(deadlines: Deadlines) -> Callable[[BasisNotice], LateBasisNotice]:
    def convert(notice: BasisNotice) -> LateBasisNotice:
        due = deadlines.basis_report_due(notice.basis_changed_on)
        return LateBasisNotice.model_validate({**asdict(notice), "due_on": due})

    return convert
