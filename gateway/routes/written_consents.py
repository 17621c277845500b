"""Written consents over HTTP (Art. 62 para. 2): the credit subject gives a providing unit a
collection consent for one restricted category, lists the written consents on file about them
and withdraws any; a providing unit registers a signed written consent it holds. A record's
``written_consent_ref`` must name one of these (refused at ingestion otherwise).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from gateway.archive import written_consents
from gateway.archive.written_consent_schemas import (
    CollectionConsentIn,
    DocumentIn,
    WithdrawalIn,
    WrittenConsentOnFileOut,
    WrittenConsentsOnFileOut,
    on_file_out,
)
from gateway.auth import CitizenCaller, ProviderCaller
from gateway.problem_handlers import problem_responses
from gateway.routes.records import Desk
from gateway.validation import StrictRoute

router = APIRouter(route_class=StrictRoute, tags=["records"])
citizen_router = APIRouter(
    route_class=StrictRoute, prefix="/v1/me/written-consents", tags=["citizen consents"]
)
ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


@citizen_router.post(
    "",
    status_code=201,
    summary="Give a providing unit my written consent to collect one restricted category",
    responses=ERRORS,
)
def give(desk: Desk, caller: CitizenCaller, body: CollectionConsentIn) -> WrittenConsentOnFileOut:
    return on_file_out(written_consents.give(desk, caller, body.provider, body.confirmation()))


@citizen_router.get(
    "",
    summary="The written consents on file about me, given here or registered by a unit",
    responses=problem_responses(401, 403),
)
def my_written_consents(desk: Desk, caller: CitizenCaller) -> WrittenConsentsOnFileOut:
    rows = written_consents.subject_consents(desk, caller)
    return WrittenConsentsOnFileOut(written_consents=[on_file_out(row) for row in rows])


@citizen_router.post(
    "/withdrawal",
    summary="Withdraw a written consent: records no longer rest on it",
    responses=ERRORS,
)
def withdraw(desk: Desk, caller: CitizenCaller, body: WithdrawalIn) -> WrittenConsentOnFileOut:
    row = written_consents.withdraw(desk, caller, body.provider, body.reference)
    return on_file_out(row)


@router.post(
    "/v1/written-consent-documents",
    status_code=201,
    summary="Register a signed written consent this unit holds (a replay answers 200)",
    responses=ERRORS,
)
def register_document(
    desk: Desk, caller: ProviderCaller, body: DocumentIn, response: Response
) -> WrittenConsentOnFileOut:
    registration = body.registration()
    row, created = written_consents.register_document(desk, caller.client_id, registration)
    if not created:
        response.status_code = 200
    return on_file_out(row)
