"""The regulator's admin API of the registries (``registry:write``): parties, agencies' legal
bases (Art. 39 para. 2, Art. 40 para. 1), purposes of consent (Art. 61(2)). Each change is made
by :mod:`gateway.registry.service` in the transaction of its ``registry_change`` audit leaf,
with the regulator's client id as the acting identity, and answered with that leaf."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from gateway.auth import RegistryKeeper
from gateway.deps import AuditService, DbSession
from gateway.parties.service import list_parties
from gateway.problem_handlers import problem_responses
from gateway.registry import service
from gateway.registry.repository import purpose_versions
from gateway.registry.schemas import (
    BasisCode,
    Changed,
    ClientId,
    KeyRotationIn,
    LegalBasisIn,
    LegalBasisOut,
    LegalBasisTermsIn,
    PartyIn,
    PartyOut,
    PurposeCode,
    PurposeIn,
    PurposeOut,
    PurposeTermsIn,
    basis_changed,
    legal_basis_out,
    party_changed,
    party_out,
    purpose_changed,
    purpose_out,
)
from gateway.registry.service import Registrar
from gateway.validation import StrictRoute
from redaction.periods import local_date

router = APIRouter(route_class=StrictRoute, prefix="/v1/registry", tags=["registry"])
READ_ERRORS = problem_responses(401, 403, 404, 422, 503)
CHANGE_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


def registrar(request: Request, session: DbSession, audit_log: AuditService) -> Registrar:
    return Registrar(session, audit_log, request.app.state.keys, datetime.now(UTC))


RegistryDesk = Annotated[Registrar, Depends(registrar)]
"""A unit of work on the registries, for the API and the console."""
Desk = RegistryDesk


@router.get("/parties", summary="Every registered party", responses=READ_ERRORS)
def parties(desk: Desk, _caller: RegistryKeeper) -> list[PartyOut]:
    return [party_out(party) for party in list_parties(desk.session)]


@router.post("/parties", status_code=201, summary="Register a party", responses=CHANGE_ERRORS)
def register_party(desk: Desk, caller: RegistryKeeper, body: PartyIn) -> Changed[PartyOut]:
    logged = service.register_party(desk, caller.client_id, body.to_registration())
    return party_changed(logged)


@router.post(
    "/parties/{client_id}/disable",
    summary="Disable a party: its tokens are refused from the next request on",
    responses=CHANGE_ERRORS,
)
def disable_party(desk: Desk, caller: RegistryKeeper, client_id: ClientId) -> Changed[PartyOut]:
    logged = service.disable_party(desk, caller.client_id, client_id)
    return party_changed(logged)


@router.post(
    "/parties/{client_id}/keys",
    summary="Add a party's new public keys; with retire_old, they replace the others",
    responses=CHANGE_ERRORS,
)
def rotate_keys(
    desk: Desk, caller: RegistryKeeper, client_id: ClientId, body: KeyRotationIn
) -> Changed[PartyOut]:
    logged = service.rotate_party_keys(
        desk, caller.client_id, client_id, body.jwks.keys, retire_old=body.retire_old
    )
    return party_changed(logged)


@router.get(
    "/parties/{client_id}/legal-bases",
    summary="An agency's legal bases, latest versions (Art. 39 para. 2)",
    responses=READ_ERRORS,
)
def legal_bases(desk: Desk, _caller: RegistryKeeper, client_id: ClientId) -> list[LegalBasisOut]:
    today = local_date(desk.now)
    return [
        legal_basis_out(client_id, basis, today)
        for basis in service.legal_bases(desk.session, client_id)
    ]


@router.post(
    "/parties/{client_id}/legal-bases",
    status_code=201,
    summary="Register a legal basis of an agency (Art. 39 para. 2, Art. 40 para. 1)",
    responses=CHANGE_ERRORS,
)
def register_legal_basis(
    desk: Desk, caller: RegistryKeeper, client_id: ClientId, body: LegalBasisIn
) -> Changed[LegalBasisOut]:
    draft = body.to_draft(body.code)
    logged = service.register_legal_basis(desk, caller.client_id, client_id, draft)
    return basis_changed(client_id, logged, local_date(desk.now))


@router.put(
    "/parties/{client_id}/legal-bases/{code}",
    summary="Amend a legal basis: its next version is in force from now on",
    responses=CHANGE_ERRORS,
)
def amend_legal_basis(
    desk: Desk,
    caller: RegistryKeeper,
    client_id: ClientId,
    code: BasisCode,
    body: LegalBasisTermsIn,
) -> Changed[LegalBasisOut]:
    logged = service.amend_legal_basis(desk, caller.client_id, client_id, body.to_draft(code))
    return basis_changed(client_id, logged, local_date(desk.now))


@router.post(
    "/parties/{client_id}/legal-bases/{code}/withdraw",
    summary="Withdraw a legal basis: no inquiry states it from now on",
    responses=CHANGE_ERRORS,
)
def withdraw_legal_basis(
    desk: Desk, caller: RegistryKeeper, client_id: ClientId, code: BasisCode
) -> Changed[LegalBasisOut]:
    logged = service.withdraw_legal_basis(desk, caller.client_id, client_id, code)
    return basis_changed(client_id, logged, local_date(desk.now))


@router.get(
    "/purposes",
    summary="The purposes of consent, latest versions, retired ones too (Art. 61(2))",
    responses=READ_ERRORS,
)
def purposes(desk: Desk, _caller: RegistryKeeper) -> list[PurposeOut]:
    return [purpose_out(row) for row in purpose_versions(desk.session)]


@router.post(
    "/purposes", status_code=201, summary="Add a purpose of consent", responses=CHANGE_ERRORS
)
def add_purpose(desk: Desk, caller: RegistryKeeper, body: PurposeIn) -> Changed[PurposeOut]:
    logged = service.add_purpose(desk, caller.client_id, body.definition(body.code))
    return purpose_changed(logged)


@router.put(
    "/purposes/{code}",
    summary="Amend a purpose: new consent requests are checked against its next version",
    responses=CHANGE_ERRORS,
)
def amend_purpose(
    desk: Desk, caller: RegistryKeeper, code: PurposeCode, body: PurposeTermsIn
) -> Changed[PurposeOut]:
    logged = service.amend_purpose(desk, caller.client_id, body.definition(code))
    return purpose_changed(logged)


@router.post(
    "/purposes/{code}/retire",
    summary="Retire a purpose: no consent is requested for it from now on",
    responses=CHANGE_ERRORS,
)
def retire_purpose(desk: Desk, caller: RegistryKeeper, code: PurposeCode) -> Changed[PurposeOut]:
    logged = service.retire_purpose(desk, caller.client_id, code)
    return purpose_changed(logged)
