"""Step-up for a consent decision (Art. 61(2): no compelled authorization; RFC 9470 in spirit).

A password may have been obtained or coerced by the very establishment that asks, so a
decision also needs a fresh verification of a factor bound to the credit subject's device (a
passkey or a TOTP authenticator). The verification yields a :func:`proof`: a short-lived JWS
(``typ`` ``second-factor+jwt``) bound to the citizen, to the session or access token it was
obtained in (``sid``), and to one decision - the grant and the action. The decision checks it
(:func:`check_proof`) and spends its ``jti`` once.

A passkey is verified against a server challenge; the challenge travels as a signed
:func:`challenge` (``typ`` ``webauthn-challenge+jwt``) bound the same way, so no challenge is
kept in storage, and it too is spent once. Adding a factor to an account that already has one
is itself a step-up action (:attr:`Action.ENROL`): a password alone never adds a factor of an
intruder's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from consent.errors import Reason, SecondFactorError
from consent.jws import from_timestamp, sign, timestamp, verify
from consent.keys import KeyRing, PublicKeys

PROOF_TYP = "second-factor+jwt"
CHALLENGE_TYP = "webauthn-challenge+jwt"
PROOF_LIFETIME = timedelta(minutes=2)
CHALLENGE_LIFETIME = timedelta(minutes=10)
CHALLENGE_BYTES = 32


class Action(StrEnum):
    """What a proof authorizes: a decision on one grant, adding a factor, issuing a report."""

    APPROVE = "approve"
    REJECT = "reject"
    REVOKE = "revoke"
    RESUME = "resume"
    ENROL = "enrol_factor"
    ISSUE_REPORT = "issue_report"
    """A credit report of one's file, to hand to others (Art. 39 para. 5): no grant."""


GRANTLESS = frozenset({Action.ENROL, Action.ISSUE_REPORT})
"""The actions a proof is bound to without a grant."""


class Ceremony(StrEnum):
    """What a WebAuthn challenge is for (W3C WebAuthn Level 3, section 7)."""

    REGISTRATION = "registration"
    ASSERTION = "assertion"


class Method(StrEnum):
    """How the factor was verified (RFC 8176 ``amr`` values)."""

    PASSKEY = "hwk"
    TOTP = "otp"


@dataclass(frozen=True)
class Binding:
    """Who, in which session, for what: a proof or challenge is good for this only."""

    citizen_id: str
    session_id: str
    action: Action
    grant_id: str = ""


@dataclass(frozen=True)
class Spendable:
    """A verified proof or challenge: its id to spend once, until it expires."""

    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class Challenge(Spendable):
    ceremony: Ceremony
    challenge: bytes


def _refusal(detail: str) -> SecondFactorError:
    return SecondFactorError(detail, reason=Reason.SECOND_FACTOR_INVALID)


def _claims(binding: Binding, issuer: str, now: datetime, lifetime: timedelta) -> dict[str, object]:
    return {
        "iss": issuer,
        "sub": binding.citizen_id,
        "sid": binding.session_id,
        "act": binding.action.value,
        "grant": binding.grant_id,
        "jti": secrets.token_urlsafe(16),
        "iat": timestamp(now),
        "exp": timestamp(now + lifetime),
    }


def proof(
    keyring: KeyRing, issuer: str, binding: Binding, method: Method, now: datetime
) -> tuple[str, datetime]:
    """A signed proof that a factor was verified now, for ``binding`` only; and its expiry."""
    claims = {**_claims(binding, issuer, now, PROOF_LIFETIME), "amr": [method.value]}
    return sign(keyring, PROOF_TYP, claims), now + PROOF_LIFETIME


def check_proof(
    token: str | None, keys: PublicKeys, issuer: str, binding: Binding, now: datetime
) -> Spendable:
    """The proof's id to spend, if ``token`` is a current proof for exactly ``binding``;
    raises :class:`SecondFactorError` (Art. 61(2)) otherwise, or when there is none."""
    if not token:
        raise SecondFactorError(
            "this decision needs a fresh verification of your second factor",
            reason=Reason.SECOND_FACTOR_REQUIRED,
        )
    claims = verify(token, keys, PROOF_TYP, _refusal)
    _check_binding(claims.as_dict(), issuer, binding)
    expires_at = claims.require_current(now)
    return Spendable(claims.text("jti"), from_timestamp(expires_at))


def challenge(
    keyring: KeyRing, issuer: str, binding: Binding, ceremony: Ceremony, now: datetime
) -> tuple[str, bytes]:
    """A fresh WebAuthn challenge for ``binding``, and the signed token that carries it."""
    raw = secrets.token_bytes(CHALLENGE_BYTES)
    claims = {
        **_claims(binding, issuer, now, CHALLENGE_LIFETIME),
        "cer": ceremony.value,
        "chal": raw.hex(),
    }
    return sign(keyring, CHALLENGE_TYP, claims), raw


def check_challenge(
    token: str,
    keys: PublicKeys,
    issuer: str,
    binding: Binding,
    ceremony: Ceremony,
    now: datetime,
) -> Challenge:
    """The challenge ``token`` carries, if it was issued for ``binding`` and ``ceremony``
    and has not expired; raises :class:`SecondFactorError` otherwise."""
    claims = verify(token, keys, CHALLENGE_TYP, _refusal)
    _check_binding(claims.as_dict(), issuer, binding)
    if claims.text("cer") != ceremony.value:
        raise _refusal("the challenge was issued for another ceremony")
    expires_at = claims.require_current(now)
    try:
        raw = bytes.fromhex(claims.text("chal"))
    except ValueError as exc:
        raise _refusal("malformed challenge") from exc
    return Challenge(claims.text("jti"), from_timestamp(expires_at), ceremony, raw)


def _check_binding(claims: dict[str, object], issuer: str, binding: Binding) -> None:
    expected = {
        "iss": issuer,
        "sub": binding.citizen_id,
        "sid": binding.session_id,
        "act": binding.action.value,
        "grant": binding.grant_id,
    }
    for name, value in expected.items():
        if claims.get(name) != value:
            raise _refusal("the verification was made for another decision or session")
