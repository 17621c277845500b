"""The second factor in the portal (Art. 61(2)): enrolment after the first sign-in, and the
factor every decision form asks for.

A form offers what the citizen enrolled: a field for the TOTP code, and a passkey button whose
WebAuthn options and signed challenge - issued for that grant and action - ride on the button
(``/portal/static/passkey.js`` runs the ceremony; the CSP admits the portal's own scripts and
nothing inline). The portal route turns the answer into a proof with the API's own service
functions and hands it to the consent service, which spends it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form

from consent.rfc9068 import AccessToken
from consent.step_up import Action
from gateway.factors import service
from gateway.factors.service import TOTP, FactorDesk, PasskeyCeremony
from gateway.validation import Identifier, Text
from problems import InvalidInput

FACTORS = "/portal/factors"


@dataclass(frozen=True)
class FactorPrompt:
    """What a decision form offers: a TOTP field, a passkey ceremony, or neither (then the
    citizen is sent to enrol one)."""

    totp: bool
    passkey: PasskeyCeremony | None

    @property
    def enrolled(self) -> bool:
        return self.totp or self.passkey is not None

    @property
    def options(self) -> str:
        return json.dumps(self.passkey.options if self.passkey else {}, separators=(",", ":"))


def prompter(desk: FactorDesk, caller: AccessToken) -> Any:
    """``prompt(action, grant_id)`` for the templates: the factor fields of one decision."""
    kinds = {factor.kind for factor in service.factors(desk, caller)}

    def prompt(action: str, grant_id: str = "") -> FactorPrompt:
        passkey = None
        if kinds - {TOTP}:
            passkey = service.passkey_assertion(desk, caller, Action(action), grant_id)
        return FactorPrompt(TOTP in kinds, passkey)

    return prompt


Field = Annotated[Text, Form(max_length=8192)]


@dataclass(frozen=True)
class FactorAnswer:
    """The factor a decision form posted: a TOTP code, a passkey assertion, or nothing."""

    totp_code: str
    passkey_challenge: str
    passkey_credential: str

    def credential(self) -> dict[str, Any]:
        try:
            credential = json.loads(self.passkey_credential)
        except ValueError as exc:
            raise InvalidInput("the passkey answer is not JSON") from exc
        if not isinstance(credential, dict):
            raise InvalidInput("the passkey answer is not a credential")
        return credential

    def proof(
        self, desk: FactorDesk, caller: AccessToken, action: Action, grant_id: str = ""
    ) -> str | None:
        """The proof for this decision, verified now; ``None`` when no factor was posted."""
        if self.totp_code.strip():
            code = self.totp_code.strip()
            return service.prove_with_totp(desk, caller, action, grant_id, code).token
        if self.passkey_credential:
            return service.prove_with_passkey(
                desk, caller, action, grant_id, self.passkey_challenge, self.credential()
            ).token
        return None


def factor_answer(
    totp_code: Annotated[Identifier, Form(max_length=16)] = "",
    passkey_challenge: Field = "",
    passkey_credential: Field = "",
) -> FactorAnswer:
    return FactorAnswer(totp_code, passkey_challenge, passkey_credential)


Answer = Annotated[FactorAnswer, Depends(factor_answer)]
