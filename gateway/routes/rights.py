"""Subject rights over HTTP (Art. 37 para. 2, 64, 66, 67, 70(8)): the citizen files objections
and reads the answers, and attaches statements, self-declarations and pledges to records of their
own file; the holder lists and answers them; a providing unit records a credit restoration;
an establishment reads and acknowledges its deletion notices. Another holder's objection or
another establishment's notice is 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from gateway.archive.schemas import RecordChangeOut, record_change_out
from gateway.archive.service import attach_statement, statements_by
from gateway.auth import (
    CitizenApplicant,
    CitizenObjector,
    CitizenStater,
    NoticeRecipient,
    ObjectionHolder,
    ProviderCaller,
)
from gateway.deps import AuditService, DbSession
from gateway.parties.accounts import caller_subject_key
from gateway.problem_handlers import problem_responses
from gateway.rights import notices, objections, restoration
from gateway.rights.schemas import (
    AnswerIn,
    ApplicationDecisionIn,
    ApplicationIn,
    ApplicationOut,
    ApplicationsOut,
    FiledObjectionOut,
    FiledObjections,
    HeldObjectionOut,
    HeldObjections,
    NoticeOut,
    NoticesOut,
    ObjectionIn,
    RestorationIn,
    StatementIn,
    StatementOut,
    StatementsOut,
    application_out,
    filed_out,
    held_out,
    notice_out,
    statement_out,
)
from gateway.rights.service import Deadlines, RightsDesk
from gateway.routes.records import RecordId
from gateway.validation import Identifier, StrictRoute

router = APIRouter(route_class=StrictRoute, tags=["subject rights"])
ObjectionId = Annotated[Identifier, Path(pattern=r"^obj_[0-9a-f]{32}$", description="obj_...")]
NoticeId = Annotated[Identifier, Path(pattern=r"^dn_[0-9a-f]{32}$", description="dn_...")]
ApplicationId = Annotated[Identifier, Path(pattern=r"^ra_[0-9a-f]{32}$", description="ra_...")]
CHANGE_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


def rights_desk(request: Request, session: DbSession, audit_log: AuditService) -> RightsDesk:
    state = request.app.state
    deadlines = Deadlines.of(state.settings)
    return RightsDesk(
        session, audit_log, state.keys, state.auth_server, deadlines, datetime.now(UTC)
    )


Desk = Annotated[RightsDesk, Depends(rights_desk)]


@router.post(
    "/v1/me/objections",
    status_code=201,
    summary="Object to an item of my file, an assessment or market information (Art. 64)",
    responses=CHANGE_ERRORS,
    tags=["citizens"],
)
def file_objection(desk: Desk, caller: CitizenObjector, body: ObjectionIn) -> FiledObjectionOut:
    filed = objections.file_objection(desk, caller, body.to_filing())
    return filed_out(filed, desk.today)


@router.get(
    "/v1/me/objections",
    summary="My objections and their answers, newest first (Art. 64)",
    responses=problem_responses(401, 403),
    tags=["citizens"],
)
def my_objections(desk: Desk, caller: CitizenObjector) -> FiledObjections:
    filed = objections.objections_of_citizen(desk, caller)
    return FiledObjections(objections=[filed_out(entry, desk.today) for entry in filed])


@router.post(
    "/v1/me/statements",
    status_code=201,
    summary="Attach a statement, self-declaration or pledge to a record of my file "
    "(Art. 37 para. 2); it is served with the record, labelled as mine",
    responses=CHANGE_ERRORS,
    tags=["citizens"],
)
def attach_my_statement(desk: Desk, caller: CitizenStater, body: StatementIn) -> StatementOut:
    key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    row = attach_statement(desk.archive(), key, body.record_id, body.kind, body.text)
    return statement_out(row)


@router.get(
    "/v1/me/statements",
    summary="What I attached to the records of my file, newest first (Art. 37 para. 2)",
    responses=problem_responses(401, 403),
    tags=["citizens"],
)
def my_statements(desk: Desk, caller: CitizenStater) -> StatementsOut:
    key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    rows = statements_by(desk.archive(), key)
    return StatementsOut(statements=[statement_out(row) for row in rows])


@router.get(
    "/v1/objections",
    summary="The objections this unit must answer or has answered, newest first (Art. 64)",
    responses=problem_responses(401, 403),
)
def held_objections(desk: Desk, caller: ObjectionHolder) -> HeldObjections:
    held = objections.held_objections(desk, caller.client_id)
    return HeldObjections(objections=[held_out(entry, desk.today) for entry in held])


@router.post(
    "/v1/objections/{objection_id}/answer",
    summary="Answer an objection: corrected, deleted or upheld, with reasons (Art. 64)",
    responses=CHANGE_ERRORS,
)
def answer_objection(
    desk: Desk, caller: ObjectionHolder, objection_id: ObjectionId, body: AnswerIn
) -> HeldObjectionOut:
    held = objections.answer_objection(desk, caller.client_id, objection_id, body.to_answer())
    return held_out(held, desk.today)


@router.post(
    "/v1/records/{record_id}/restoration",
    summary="Record a credit restoration decision: the record is no longer displayed (Art. 66)",
    responses=CHANGE_ERRORS,
    tags=["records"],
)
def restore_record(
    desk: Desk, caller: ProviderCaller, record_id: RecordId, body: RestorationIn
) -> RecordChangeOut:
    change = restoration.restore(
        desk, caller.client_id, record_id, body.reason, body.decision.to_basis()
    )
    return record_change_out(change)


@router.post(
    "/v1/me/restoration-applications",
    status_code=201,
    summary="Apply for credit restoration of an untrustworthiness record (Art. 66 para. 1)",
    responses=CHANGE_ERRORS,
    tags=["citizens"],
)
def apply_for_restoration(
    desk: Desk, caller: CitizenApplicant, body: ApplicationIn
) -> ApplicationOut:
    filed = restoration.apply_for_restoration(desk, caller, body.to_application())
    return application_out(filed)


@router.get(
    "/v1/me/restoration-applications",
    summary="My applications for credit restoration and their decisions, newest first",
    responses=problem_responses(401, 403),
    tags=["citizens"],
)
def my_restoration_applications(desk: Desk, caller: CitizenApplicant) -> ApplicationsOut:
    filed = restoration.applications_of_subject(desk, caller)
    return ApplicationsOut(applications=[application_out(entry) for entry in filed])


@router.get(
    "/v1/restoration-applications",
    summary="The restoration applications this designating unit decides, newest first",
    responses=problem_responses(401, 403),
    tags=["records"],
)
def restoration_applications(desk: Desk, caller: ProviderCaller) -> ApplicationsOut:
    filed = restoration.applications_to(desk, caller.client_id)
    return ApplicationsOut(applications=[application_out(entry) for entry in filed])


@router.post(
    "/v1/restoration-applications/{application_id}/decision",
    summary="Decide a restoration application: approved (display stops) or rejected (Art. 66)",
    responses=CHANGE_ERRORS,
    tags=["records"],
)
def decide_restoration_application(
    desk: Desk,
    caller: ProviderCaller,
    application_id: ApplicationId,
    body: ApplicationDecisionIn,
) -> ApplicationOut:
    decided = restoration.decide_application(
        desk, caller.client_id, application_id, body.to_decision()
    )
    return application_out(decided)


@router.get(
    "/v1/deletion-notices",
    summary="Deletion notices to this establishment, newest first (Art. 67, 70(8))",
    responses=problem_responses(401, 403),
)
def deletion_notices(
    desk: Desk,
    caller: NoticeRecipient,
    pending: Annotated[bool, Query(description="Only those not acknowledged yet")] = False,
) -> NoticesOut:
    sent = notices.notices_to(desk, caller.client_id, pending=pending)
    return NoticesOut(notices=[notice_out(notice) for notice in sent])


@router.post(
    "/v1/deletion-notices/{notice_id}/acknowledgement",
    summary="Acknowledge a deletion notice: the record is no longer used and deleted (Art. 67)",
    responses=problem_responses(401, 403, 404, 503),
)
def acknowledge_notice(desk: Desk, caller: NoticeRecipient, notice_id: NoticeId) -> NoticeOut:
    return notice_out(notices.acknowledge(desk, caller.client_id, notice_id))
