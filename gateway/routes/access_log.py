"""The credit subject's access log over HTTP (Art. 63): who queried my information, each
entry with its inclusion proof against the latest signed checkpoint, served with it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from gateway.auth import CitizenReader
from gateway.deps import AuditService, DbSession
from gateway.inquiries.access_log import EVERY_ENTRY, MAX_ENTRIES, access_log
from gateway.inquiries.schemas import AccessLogOut, access_log_out
from gateway.problem_handlers import problem_responses

router = APIRouter(tags=["citizens"])


@router.get(
    "/v1/me/access-log",
    summary="Who queried my information (Art. 63), newest first, each entry provable",
    responses=problem_responses(401, 403),
)
def my_access_log(
    request: Request,
    session: DbSession,
    audit_log: AuditService,
    caller: CitizenReader,
    before: Annotated[
        int, Query(ge=1, lt=1 << 63, description="Only entries below this leaf index")
    ] = EVERY_ENTRY,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 100,
) -> AccessLogOut:
    log = access_log(
        session,
        audit_log,
        request.app.state.keys,
        caller,
        datetime.now(UTC),
        before=before,
        limit=limit,
    )
    return access_log_out(log)
