"""The step-up proof and the WebAuthn challenge (Art. 61(2)): bound to one citizen, one
session and one decision, signed, short-lived; anything else is refused citing the article."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from consent.errors import Reason, SecondFactorError
from consent.keys import KeyRing
from consent.step_up import (
    CHALLENGE_LIFETIME,
    PROOF_LIFETIME,
    Action,
    Binding,
    Ceremony,
    Method,
    challenge,
    check_challenge,
    check_proof,
    proof,
)
from tests.consent.factories import NOW, tamper

ISSUER = "https://gateway.example"
BINDING = Binding("citizen-1", "session-1", Action.APPROVE, "cg_one")
RING = KeyRing.generate()


def _refused(action: object) -> SecondFactorError:
    with pytest.raises(SecondFactorError) as refused:
        action()  # type: ignore[operator]
    assert refused.value.to_problem()["article"] == "Art. 61(2)"
    return refused.value


def test_a_proof_checks_for_exactly_its_binding_until_it_expires() -> None:
    token, expires_at = proof(RING, ISSUER, BINDING, Method.TOTP, NOW)
    assert expires_at == NOW + PROOF_LIFETIME
    checked = check_proof(token, RING.public_keys(), ISSUER, BINDING, NOW)
    assert checked.expires_at == expires_at and checked.jti
    others = [
        dataclasses.replace(BINDING, citizen_id="citizen-2"),
        dataclasses.replace(BINDING, session_id="session-2"),
        dataclasses.replace(BINDING, action=Action.REVOKE),
        dataclasses.replace(BINDING, grant_id="cg_two"),
    ]
    for other in others:
        refusal = _refused(lambda o=other: check_proof(token, RING.public_keys(), ISSUER, o, NOW))
        assert refusal.reason == Reason.SECOND_FACTOR_INVALID
    late = NOW + PROOF_LIFETIME + timedelta(seconds=1)
    _refused(lambda: check_proof(token, RING.public_keys(), ISSUER, BINDING, late))
    _refused(lambda: check_proof(token, RING.public_keys(), "https://other.example", BINDING, NOW))


def test_no_proof_a_forged_one_or_a_challenge_is_no_proof() -> None:
    missing = _refused(lambda: check_proof(None, RING.public_keys(), ISSUER, BINDING, NOW))
    assert missing.reason == Reason.SECOND_FACTOR_REQUIRED
    token, _ = proof(RING, ISSUER, BINDING, Method.PASSKEY, NOW)
    forged = tamper(token, grant="cg_two")
    _refused(lambda: check_proof(forged, RING.public_keys(), ISSUER, BINDING, NOW))
    other_ring = KeyRing.generate()
    _refused(lambda: check_proof(token, other_ring.public_keys(), ISSUER, BINDING, NOW))
    signed_challenge, _ = challenge(RING, ISSUER, BINDING, Ceremony.ASSERTION, NOW)
    _refused(lambda: check_proof(signed_challenge, RING.public_keys(), ISSUER, BINDING, NOW))


def test_a_challenge_carries_its_bytes_for_its_ceremony_only() -> None:
    token, raw = challenge(RING, ISSUER, BINDING, Ceremony.ASSERTION, NOW)
    checked = check_challenge(token, RING.public_keys(), ISSUER, BINDING, Ceremony.ASSERTION, NOW)
    assert checked.challenge == raw and len(raw) == 32
    assert checked.expires_at == NOW + CHALLENGE_LIFETIME
    _refused(
        lambda: check_challenge(
            token, RING.public_keys(), ISSUER, BINDING, Ceremony.REGISTRATION, NOW
        )
    )
    enrol = Binding("citizen-1", "session-1", Action.ENROL)
    _refused(
        lambda: check_challenge(token, RING.public_keys(), ISSUER, enrol, Ceremony.ASSERTION, NOW)
    )
    proof_token, _ = proof(RING, ISSUER, BINDING, Method.TOTP, NOW)
    _refused(
        lambda: check_challenge(
            proof_token, RING.public_keys(), ISSUER, BINDING, Ceremony.ASSERTION, NOW
        )
    )
