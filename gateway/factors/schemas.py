"""The second-factor API's bodies (Art. 61(2)): enrolment of passkeys and TOTP authenticators,
and the step-up verification of one decision."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, model_validator

from consent.step_up import GRANTLESS, Action
from gateway.consents.schemas import SecondFactorProof
from gateway.factors.models import Factor
from gateway.validation import Identifier, StrictBody, Text

Label = Annotated[Text, Field(max_length=100, description="A name for the device")]
Credential = Annotated[
    dict[Identifier, Any],
    Field(description="The PublicKeyCredential as JSON (WebAuthn Level 3 toJSON())"),
]
SignedChallenge = Annotated[
    Identifier,
    Field(min_length=1, max_length=4096, description="The challenge the options came with"),
]
TotpCode = Annotated[
    Identifier, Field(pattern=r"^[0-9]{6}$", description="The authenticator's code")
]


class FactorOut(BaseModel):
    factor_id: str
    kind: str = Field(description="passkey or totp")
    label: str
    created_at: datetime
    confirmed_at: datetime | None


class FactorsOut(BaseModel):
    factors: list[FactorOut]


class NewFactorIn(StrictBody):
    """A further factor needs a step-up with one already enrolled (action enrol_factor)."""

    label: Label = ""
    second_factor: SecondFactorProof = None


class TotpProvisioningOut(BaseModel):
    factor: FactorOut
    secret: str = Field(description="Base32 secret (RFC 6238); shown once")
    otpauth_uri: str = Field(description="otpauth://totp/... for an authenticator app")


class TotpConfirmationIn(StrictBody):
    code: TotpCode


class PasskeyOptionsOut(BaseModel):
    challenge: str = Field(description="Post it back with the credential")
    options: dict[str, Any] = Field(description="PublicKeyCredential options as JSON")


class PasskeyRegistrationIn(StrictBody):
    challenge: SignedChallenge
    credential: Credential
    label: Label = ""


class DecisionRef(StrictBody):
    """The decision a verification is for: one grant and action, or adding a factor."""

    action: Action
    grant_id: Identifier | None = Field(None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _grant_for_decisions(self) -> Self:
        if (self.action in GRANTLESS) != (self.grant_id is None):
            raise ValueError(
                "a decision names its grant_id; enrol_factor and issue_report name none"
            )
        return self

    @property
    def grant(self) -> str:
        return self.grant_id or ""


class PasskeyAssertionIn(StrictBody):
    challenge: SignedChallenge
    credential: Credential


class VerificationIn(DecisionRef):
    """One factor verified: a TOTP code, or a passkey assertion over a challenge of
    ``POST /v1/me/second-factor/challenges`` for the same decision."""

    totp: TotpCode | None = None
    passkey: PasskeyAssertionIn | None = None

    @model_validator(mode="after")
    def _one_factor(self) -> Self:
        if (self.totp is None) == (self.passkey is None):
            raise ValueError("send exactly one of totp and passkey")
        return self


class ProofOut(BaseModel):
    second_factor: str = Field(description="Send it with the decision, once, before it expires")
    expires_at: datetime


def factor_out(factor: Factor) -> FactorOut:
    return FactorOut(
        factor_id=factor.factor_id,
        kind=factor.kind,
        label=factor.label,
        created_at=factor.created_at,
        confirmed_at=factor.confirmed_at,
    )
