"""The credit subject's access log over HTTP (Art. 63): who queried my information, each
entry with its inclusion proof against the latest signed checkpoint, served with it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from consent.rfc9068 import AccessToken
from gateway.audit_log.bundle import inclusion_bundle
from gateway.auth import CitizenReader
from gateway.deps import AuditService, DbSession
from gateway.inquiries.access_log import EVERY_ENTRY, MAX_ENTRIES, AccessLog, access_log
from gateway.inquiries.schemas import AccessLogOut, access_log_out
from gateway.problem_handlers import problem_responses
from gateway.validation import StrictRoute

router = APIRouter(route_class=StrictRoute, tags=["citizens"])


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


@router.get(
    "/v1/me/access-log/bundle",
    summary="My access log as an inclusion bundle: leaves, proofs and checkpoints to keep",
    description="Every entry the latest checkpoint covers, as its exact leaf bytes with its "
    "RFC 9162 inclusion proof, and the signed checkpoint (C2SP). With since_size (the size of "
    "a checkpoint seen before), that checkpoint and the consistency proof from it. Verify "
    "offline with `gateway audit verify-bundle FILE --key <verifier key>`.",
    response_class=Response,
    responses={
        200: {"content": {"application/json": {}}},
        **problem_responses(401, 403, 404, 422),
    },
)
def my_access_log_bundle(
    request: Request,
    session: DbSession,
    audit_log: AuditService,
    caller: CitizenReader,
    since_size: Annotated[
        int | None,
        Query(ge=0, lt=1 << 63, description="The size of the checkpoint seen before"),
    ] = None,
) -> Response:
    log = whole_access_log(request, session, audit_log, caller)
    return bundle_response(inclusion_bundle(log, audit_log, since_size))


def whole_access_log(
    request: Request, session: DbSession, audit_log: AuditService, caller: AccessToken
) -> AccessLog:
    """The caller's access log (its own, or the entity's it acts for) from its newest entry,
    as many entries as one read gives."""
    return access_log(
        session,
        audit_log,
        request.app.state.keys,
        caller,
        datetime.now(UTC),
        before=EVERY_ENTRY,
        limit=MAX_ENTRIES,
    )


def bundle_response(bundle: str) -> Response:
    """The bundle as a file to keep."""
    disposition = 'attachment; filename="access-log-bundle.json"'
    return Response(
        bundle, media_type="application/json", headers={"Content-Disposition": disposition}
    )
