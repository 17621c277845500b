"""Records over HTTP for providing units (Art. 27, 37, 61(3), 62, 65): batches of submissions
answered record by record, corrections that append a version, and revocations when a basis
document is revoked, modified or voided. A record of another providing unit is 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from gateway.archive import service
from gateway.archive.schemas import (
    CorrectionIn,
    RecordChangeOut,
    RecordsIn,
    RecordsOut,
    RevocationIn,
    record_change_out,
    records_out,
)
from gateway.archive.service import ArchiveDesk
from gateway.auth import ProviderCaller
from gateway.deps import AuditService, DbSession
from gateway.problem_handlers import problem_responses
from gateway.validation import Identifier, StrictRoute

router = APIRouter(route_class=StrictRoute, prefix="/v1/records", tags=["records"])
RecordId = Annotated[
    Identifier, Path(min_length=1, max_length=40, description="The record id, rec_...")
]
CHANGE_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


def _desk(request: Request, session: DbSession, audit_log: AuditService) -> ArchiveDesk:
    return ArchiveDesk(session, audit_log, request.app.state.keys, datetime.now(UTC))


Desk = Annotated[ArchiveDesk, Depends(_desk)]


@router.post(
    "",
    summary="Submit a batch of records; each is accepted, unchanged (a replay) or refused",
    responses=problem_responses(401, 403, 409, 503),
)
def submit_records(desk: Desk, caller: ProviderCaller, body: RecordsIn) -> RecordsOut:
    return records_out(service.submit_records(desk, caller.client_id, body.submissions()))


@router.post(
    "/{record_id}/corrections",
    summary="Correct a record: a new version with its reason; the history is kept",
    responses=CHANGE_ERRORS,
)
def correct_record(
    desk: Desk, caller: ProviderCaller, record_id: RecordId, body: CorrectionIn
) -> RecordChangeOut:
    change = service.correct_record(desk, caller.client_id, record_id, body.to_correction())
    return record_change_out(change)


@router.post(
    "/{record_id}/revocation",
    summary="Revoke a record at once: its basis document was revoked, modified or voided",
    responses=CHANGE_ERRORS,
)
def revoke_record(
    desk: Desk, caller: ProviderCaller, record_id: RecordId, body: RevocationIn
) -> RecordChangeOut:
    change = service.revoke_record(desk, caller.client_id, record_id, body.to_revocation())
    return record_change_out(change)
