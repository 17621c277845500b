"""Passkeys: the relying party side of W3C Web Authentication (Level 3) for the second factor.

The ``webauthn`` package does the verification; this module fixes the gateway's choices: user
verification required (the device checked the citizen, by biometrics or PIN), no attestation
asked (a passkey proves possession, not a make), discoverable credentials preferred, and the
challenge and origin always checked. A failure of any kind is a refusal that names Art. 61(2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from consent.errors import FactorEnrolmentError, Reason, SecondFactorError

TIMEOUT_MS = 300_000


@dataclass(frozen=True)
class RelyingParty:
    """The gateway as a WebAuthn relying party: its RP ID (the host), name and origin."""

    rp_id: str
    name: str
    origin: str


@dataclass(frozen=True)
class Passkey:
    """A registered credential: its id, its COSE public key, the last signature counter."""

    credential_id: bytes
    public_key: bytes
    sign_count: int


def registration_options(
    rp: RelyingParty, user_id: bytes, user_name: str, challenge: bytes, existing: list[bytes]
) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptions`` as JSON (for ``navigator.credentials.create``)."""
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.name,
        user_id=user_id,
        user_name=user_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=key) for key in existing],
    )
    document: dict[str, Any] = json.loads(options_to_json(options))
    return document


def assertion_options(rp: RelyingParty, challenge: bytes, allowed: list[bytes]) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptions`` as JSON (for ``navigator.credentials.get``)."""
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=key) for key in allowed],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    document: dict[str, Any] = json.loads(options_to_json(options))
    return document


def registered(rp: RelyingParty, credential: dict[str, Any], challenge: bytes) -> Passkey:
    """The passkey a ``navigator.credentials.create`` answer registers, once verified."""
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise FactorEnrolmentError(
            "the passkey registration does not verify", reason=Reason.SECOND_FACTOR_INVALID
        ) from exc
    return Passkey(verified.credential_id, verified.credential_public_key, verified.sign_count)


def credential_id(credential: dict[str, Any]) -> bytes:
    """The raw id of the credential an assertion names (to find its public key)."""
    raw = credential.get("rawId") or credential.get("id")
    try:
        return base64url_to_bytes(str(raw))
    except ValueError as exc:
        raise _refused() from exc


def asserted(
    rp: RelyingParty, credential: dict[str, Any], challenge: bytes, passkey: Passkey
) -> int:
    """The new signature counter, if ``credential`` is a valid assertion of ``passkey`` over
    ``challenge`` with the user verified; raises :class:`SecondFactorError` otherwise."""
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise _refused() from exc
    return int(verified.new_sign_count)


def _refused() -> SecondFactorError:
    return SecondFactorError(
        "the passkey assertion does not verify", reason=Reason.SECOND_FACTOR_INVALID
    )
