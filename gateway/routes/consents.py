"""Consents over HTTP (Art. 61(2), 62 para. 2-3): establishments request and read their
grants; the credit subject alone - signed in to the gateway's own channel - approves, rejects,
pauses, resumes and revokes (all but a pause with the proof of a fresh second factor), and
downloads receipts. Any other caller on a citizen route gets
403 ``insufficient_scope`` and changes nothing: compelled authorization is impossible.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from consent.rfc9068 import AccessToken
from gateway.auth import CitizenCaller, EstablishmentCaller
from gateway.consents import service
from gateway.consents.schemas import (
    ApprovalIn,
    CitizenConsent,
    CitizenConsents,
    ConsentCreated,
    ConsentRequestIn,
    DecisionIn,
    EstablishmentConsent,
    SignedReceiptOut,
    WrittenConsentTextsOut,
    citizen_consent,
    consent_created,
    establishment_consent,
)
from gateway.consents.service import CitizenGrant, ConsentDesk
from gateway.consents.written_consent import written_consent_texts
from gateway.deps import AuditService, DbSession
from gateway.problem_handlers import problem_responses
from gateway.routes import links
from gateway.validation import Identifier, StrictRoute

router = APIRouter(route_class=StrictRoute, tags=["consents"])
citizen_router = APIRouter(
    route_class=StrictRoute, prefix="/v1/me/consents", tags=["citizen consents"]
)
GrantId = Annotated[
    Identifier, Path(min_length=1, max_length=64, description="The grant id, cg_...")
]
DECISION_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


def _desk(request: Request, session: DbSession, audit_log: AuditService) -> ConsentDesk:
    state = request.app.state
    return ConsentDesk(session, audit_log, state.keys, state.auth_server, datetime.now(UTC))


Desk = Annotated[ConsentDesk, Depends(_desk)]


@router.post(
    "/v1/consent-requests",
    status_code=201,
    summary="Request a consent; a single lifetime authorization is refused (Art. 61(2))",
    responses={**problem_responses(401, 403, 422, 503), **links.REQUESTED},
)
def request_consent(
    desk: Desk, caller: EstablishmentCaller, body: ConsentRequestIn, response: Response
) -> ConsentCreated:
    stored = service.request_consent(desk, caller.client_id, body.to_request())
    response.headers["Location"] = f"/v1/consents/{stored.grant.grant_id}"
    return consent_created(stored)


@router.get(
    "/v1/consents/{grant_id}",
    summary="A consent this establishment requested (any other is 404)",
    responses=problem_responses(401, 403, 404),
)
def read_consent(
    desk: Desk, caller: EstablishmentCaller, grant_id: GrantId
) -> EstablishmentConsent:
    stored = service.requested_consent(desk, caller.client_id, grant_id)
    return establishment_consent(stored, desk.now)


@router.get(
    "/v1/written-consent-texts",
    summary="The consequences texts a citizen confirms per restricted category (Art. 62)",
    openapi_extra={"security": []},
)
def read_written_consent_texts() -> WrittenConsentTextsOut:
    texts = written_consent_texts()
    return WrittenConsentTextsOut(version=texts.version, texts=texts.texts)


@citizen_router.get(
    "",
    summary="My consents, with state, uses left and expiry",
    responses=problem_responses(401, 403),
)
def my_consents(desk: Desk, caller: CitizenCaller) -> CitizenConsents:
    grants = service.citizen_consents(desk, caller)
    return CitizenConsents(consents=[citizen_consent(grant, desk.now) for grant in grants])


@citizen_router.post(
    "/{grant_id}/approve",
    summary="Approve (a subset of) the categories, with a second factor; restricted ones need "
    "a written consent",
    responses={**DECISION_ERRORS, **links.APPROVED},
)
def approve(
    desk: Desk, caller: CitizenCaller, grant_id: GrantId, body: ApprovalIn
) -> CitizenConsent:
    grant = service.approve(
        desk, caller, grant_id, body.categories, body.confirmations(), body.second_factor
    )
    return citizen_consent(grant, desk.now)


Decision = Callable[[ConsentDesk, AccessToken, str, str | None], CitizenGrant]


def _decision_route(decision: Decision) -> Callable[..., Any]:
    def route(
        desk: Desk, caller: CitizenCaller, grant_id: GrantId, body: DecisionIn | None = None
    ) -> CitizenConsent:
        proof = body.second_factor if body else None
        return citizen_consent(decision(desk, caller, grant_id, proof), desk.now)

    return route


for _action, _decision, _summary, _links in (
    ("reject", service.reject, "Reject a pending consent request (with a second factor)", {}),
    (
        "revoke",
        service.revoke,
        "Revoke a consent (with a second factor); the next inquiry is denied",
        links.REVOKED,
    ),
    ("resume", service.resume, "Resume a paused consent (with a second factor)", {}),
):
    citizen_router.add_api_route(
        f"/{{grant_id}}/{_action}",
        _decision_route(_decision),
        methods=["POST"],
        summary=_summary,
        responses={**DECISION_ERRORS, **_links},
        name=_action,
    )


@citizen_router.post(
    "/{grant_id}/pause", summary="Pause an active consent", responses=DECISION_ERRORS
)
def pause(desk: Desk, caller: CitizenCaller, grant_id: GrantId) -> CitizenConsent:
    return citizen_consent(service.pause(desk, caller, grant_id), desk.now)


@citizen_router.get(
    "/{grant_id}/receipt",
    summary="The signed consent receipt (Kantara v1.1 / ISO/IEC TS 27560)",
    responses=problem_responses(401, 403, 404, 409),
)
def receipt(desk: Desk, caller: CitizenCaller, grant_id: GrantId) -> SignedReceiptOut:
    signed = service.receipt(desk, caller, grant_id)
    return SignedReceiptOut(receipt=signed.receipt, jws=signed.jws)
