"""Second factors over HTTP (Art. 61(2)): the signed-in citizen enrols passkeys and TOTP
authenticators, and verifies one before each decision on a consent. The proof a verification
yields is good for that grant and action, in that session, once, for two minutes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from gateway.auth import CitizenCaller
from gateway.deps import AppSettings, AuditService, DbSession
from gateway.factors import service
from gateway.factors.schemas import (
    DecisionRef,
    FactorOut,
    FactorsOut,
    NewFactorIn,
    PasskeyOptionsOut,
    PasskeyRegistrationIn,
    ProofOut,
    TotpConfirmationIn,
    TotpProvisioningOut,
    VerificationIn,
    factor_out,
)
from gateway.factors.service import FactorDesk, PasskeyCeremony, Proof, relying_party
from gateway.problem_handlers import problem_responses
from gateway.ratelimit import SECOND_FACTOR_PROOFS
from gateway.validation import Identifier, StrictRoute

router = APIRouter(route_class=StrictRoute, prefix="/v1/me", tags=["second factors"])
FactorId = Annotated[
    Identifier, Path(min_length=1, max_length=40, description="The factor id, fa_...")
]
ENROLMENT_ERRORS = problem_responses(401, 403, 409, 422, 503)


def factor_desk(
    request: Request, session: DbSession, audit_log: AuditService, settings: AppSettings
) -> FactorDesk:
    state = request.app.state
    return FactorDesk(
        session,
        audit_log,
        state.keys,
        state.auth_server,
        relying_party(settings.base_url),
        datetime.now(UTC),
    )


Desk = Annotated[FactorDesk, Depends(factor_desk)]


@router.get("/factors", summary="My second factors", responses=problem_responses(401, 403))
def my_factors(desk: Desk, caller: CitizenCaller) -> FactorsOut:
    return FactorsOut(factors=[factor_out(f) for f in service.factors(desk, caller)])


@router.post(
    "/factors/totp",
    status_code=201,
    summary="Provision a TOTP authenticator (RFC 6238); confirm it with a first code",
    responses=ENROLMENT_ERRORS,
)
def provision_totp(desk: Desk, caller: CitizenCaller, body: NewFactorIn) -> TotpProvisioningOut:
    provisioned = service.provision_totp(desk, caller, body.label, body.second_factor)
    assert provisioned.factor.totp_secret is not None  # just provisioned
    return TotpProvisioningOut(
        factor=factor_out(provisioned.factor),
        secret=provisioned.factor.totp_secret,
        otpauth_uri=provisioned.uri,
    )


@router.post(
    "/factors/totp/{factor_id}/confirmation",
    summary="Confirm a TOTP authenticator with its current code: it counts from now",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def confirm_totp(
    desk: Desk, caller: CitizenCaller, factor_id: FactorId, body: TotpConfirmationIn
) -> FactorOut:
    return factor_out(service.confirm_totp(desk, caller, factor_id, body.code))


@router.post(
    "/factors/passkeys/options",
    summary="Options to create a passkey (WebAuthn registration)",
    responses=ENROLMENT_ERRORS,
)
def passkey_options(desk: Desk, caller: CitizenCaller, body: NewFactorIn) -> PasskeyOptionsOut:
    return _ceremony(service.passkey_registration(desk, caller, body.second_factor))


@router.post(
    "/factors/passkeys",
    status_code=201,
    summary="Register the passkey created with those options",
    responses=ENROLMENT_ERRORS,
)
def register_passkey(desk: Desk, caller: CitizenCaller, body: PasskeyRegistrationIn) -> FactorOut:
    factor = service.register_passkey(desk, caller, body.challenge, body.credential, body.label)
    return factor_out(factor)


@router.post(
    "/second-factor/challenges",
    summary="A passkey challenge for one decision (WebAuthn assertion options)",
    responses=problem_responses(401, 403, 422),
)
def passkey_challenge(desk: Desk, caller: CitizenCaller, body: DecisionRef) -> PasskeyOptionsOut:
    return _ceremony(service.passkey_assertion(desk, caller, body.action, body.grant))


@router.post(
    SECOND_FACTOR_PROOFS.removeprefix("/v1/me"),
    summary="Verify a second factor for one decision: the proof the decision takes",
    responses=problem_responses(401, 403, 422, 429),
)
def prove(desk: Desk, caller: CitizenCaller, body: VerificationIn) -> ProofOut:
    if body.passkey is not None:
        proof = service.prove_with_passkey(
            desk,
            caller,
            body.action,
            body.grant,
            body.passkey.challenge,
            body.passkey.credential,
        )
    else:
        assert body.totp is not None  # exactly one of them
        proof = service.prove_with_totp(desk, caller, body.action, body.grant, body.totp)
    return _proof(proof)


def _ceremony(ceremony: PasskeyCeremony) -> PasskeyOptionsOut:
    return PasskeyOptionsOut(challenge=ceremony.challenge, options=ceremony.options)


def _proof(proof: Proof) -> ProofOut:
    return ProofOut(second_factor=proof.token, expires_at=proof.expires_at)
