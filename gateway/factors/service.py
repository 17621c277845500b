"""Second factors of the credit subject and the step-up of a consent decision (Art. 61(2)).

A citizen enrols a passkey (WebAuthn) or a TOTP authenticator after signing in; the first
factor needs the signed-in session only, every further one a step-up with a factor already
enrolled (:attr:`consent.step_up.Action.ENROL`). A decision on a consent first verifies a
factor (:func:`prove_with_totp`, :func:`prove_with_passkey`), which yields a proof for that
grant and action only; the consent service spends it (:func:`spend_proof`). Only the operator
removes factors (:func:`reset_factors`), for a citizen who lost the device.

Enrolments and resets are audit leaves (``factor_change``), linked to the citizen's subject so
they show in the citizen's access log. Spent proofs and challenges, accepted TOTP steps and
passkey counters are committed at once and apart from the request's unit of work: a request
that fails afterwards must not roll them back and let a code or a proof be used again.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlmodel import Session

from audit.leaf import AuditEvent, EventKind, Outcome
from consent.errors import (
    FactorEnrolmentError,
    Reason,
    ReplayedAssertionError,
    SecondFactorError,
)
from consent.rfc6238 import accepted_step, new_secret, provisioning_uri
from consent.rfc9068 import AccessToken
from consent.step_up import (
    Action,
    Binding,
    Ceremony,
    Challenge,
    Method,
    Spendable,
    challenge,
    check_challenge,
    check_proof,
    proof,
)
from consent.webauthn import (
    Passkey,
    RelyingParty,
    asserted,
    assertion_options,
    credential_id,
    registered,
    registration_options,
)
from gateway.audit_log.service import AuditLog, seal
from gateway.factors import repository
from gateway.factors.models import Factor
from gateway.keys import GatewayKeys
from gateway.oauth.repository import SqlJtiStore
from gateway.oauth.service import AuthServer
from gateway.parties.accounts import account_subject_key
from gateway.parties.models import Citizen
from gateway.parties.repository import citizen_by_username
from problems import Conflict, NotFound

PASSKEY = "passkey"
TOTP = "totp"
SPENT = "second-factor"
"""The namespace of spent proofs and challenges in the assertion ``jti`` store."""
ISSUER = "Credit Consent Gateway"
OPERATOR = "operator"
CITIZEN = "citizen"
ENROLLED = "enrolled"
RESET = "reset"


class FactorNotFound(NotFound):
    title = "No such second factor"
    slug = "second-factor-not-found"


class PasskeyExists(Conflict):
    title = "Passkey already registered"
    slug = "passkey-exists"


class UnknownCitizen(NotFound):
    title = "No such citizen account"
    slug = "citizen-unknown"


@dataclass(frozen=True)
class FactorDesk:
    """What one unit of work enrols and verifies factors with, and the instant it acts at."""

    session: Session
    audit_log: AuditLog
    keys: GatewayKeys
    server: AuthServer
    relying_party: RelyingParty
    now: datetime

    def binding(self, caller: AccessToken, action: Action, grant_id: str = "") -> Binding:
        return Binding(caller.subject, caller.jti, action, grant_id)


@dataclass(frozen=True)
class TotpProvisioning:
    factor: Factor
    uri: str


@dataclass(frozen=True)
class PasskeyCeremony:
    """WebAuthn options for the browser, and the signed challenge to post back with them."""

    options: dict[str, Any]
    challenge: str


@dataclass(frozen=True)
class Proof:
    token: str
    expires_at: datetime


def relying_party(base_url: str) -> RelyingParty:
    """The gateway as a WebAuthn relying party: the host of its public URL, and its origin."""
    parts = urlsplit(base_url)
    return RelyingParty(parts.hostname or "", ISSUER, f"{parts.scheme}://{parts.netloc}")


# -- enrolment -------------------------------------------------------------------------------


def factors(desk: FactorDesk, caller: AccessToken) -> list[Factor]:
    return repository.factors_of(desk.session, caller.subject)


def has_factor(session: Session, citizen_id: str) -> bool:
    return bool(repository.factors_of(session, citizen_id))


def provision_totp(
    desk: FactorDesk, caller: AccessToken, label: str, second_factor: str | None
) -> TotpProvisioning:
    """A new TOTP secret, to confirm with a first code; replaces one not yet confirmed."""
    citizen = _citizen(desk, caller)
    _may_add(desk, caller, second_factor)
    repository.drop_unconfirmed(desk.session, citizen.id)
    secret = new_secret()
    factor = _factor(desk, citizen.id, TOTP, label, totp_secret=secret)
    repository.add(desk.session, factor)
    return TotpProvisioning(
        factor, provisioning_uri(secret, citizen.username or citizen.id, ISSUER)
    )


def confirm_totp(desk: FactorDesk, caller: AccessToken, factor_id: str, code: str) -> Factor:
    """The TOTP factor confirmed by a first code from the authenticator: it counts from now."""
    factor = repository.factor_of(desk.session, caller.subject, factor_id)
    if factor is None or factor.kind != TOTP or factor.confirmed_at is not None:
        raise FactorNotFound("no such TOTP factor waiting for its first code")
    assert factor.totp_secret is not None  # a TOTP factor has its secret
    try:
        step = accepted_step(factor.totp_secret, code, desk.now, factor.last_step)
    except SecondFactorError as exc:
        raise FactorEnrolmentError(exc.detail, reason=Reason.SECOND_FACTOR_INVALID) from exc
    _register(desk, caller.subject, CITIZEN, ENROLLED, TOTP)
    factor.last_step, factor.confirmed_at = step, desk.now
    desk.session.add(factor)
    desk.session.flush()
    return factor


def passkey_registration(
    desk: FactorDesk, caller: AccessToken, second_factor: str | None
) -> PasskeyCeremony:
    """Options for ``navigator.credentials.create`` and the challenge they carry."""
    citizen = _citizen(desk, caller)
    _may_add(desk, caller, second_factor)
    token, raw = challenge(
        desk.server.keyring,
        desk.server.context.issuer,
        desk.binding(caller, Action.ENROL),
        Ceremony.REGISTRATION,
        desk.now,
    )
    existing = [_raw(f.credential_id) for f in _passkeys(desk, citizen.id)]
    options = registration_options(
        desk.relying_party, citizen.id.encode(), citizen.username or citizen.id, raw, existing
    )
    return PasskeyCeremony(options, token)


def register_passkey(
    desk: FactorDesk,
    caller: AccessToken,
    challenge_token: str,
    credential: dict[str, Any],
    label: str,
) -> Factor:
    """The passkey ``credential`` registers, verified against the challenge of its options."""
    checked = _challenge(
        desk, desk.binding(caller, Action.ENROL), challenge_token, Ceremony.REGISTRATION
    )
    passkey = registered(desk.relying_party, credential, checked.challenge)
    encoded = _text(passkey.credential_id)
    if repository.passkey_of(desk.session, caller.subject, encoded) is not None:
        raise PasskeyExists("this passkey is already registered")
    _register(desk, caller.subject, CITIZEN, ENROLLED, PASSKEY)
    factor = _factor(
        desk,
        caller.subject,
        PASSKEY,
        label,
        credential_id=encoded,
        public_key=_text(passkey.public_key),
        sign_count=passkey.sign_count,
        confirmed_at=desk.now,
    )
    repository.add(desk.session, factor)
    return factor


# -- step-up -----------------------------------------------------------------------------------


def passkey_assertion(
    desk: FactorDesk, caller: AccessToken, action: Action, grant_id: str
) -> PasskeyCeremony:
    """Options for ``navigator.credentials.get`` for one decision, and their challenge."""
    passkeys = _passkeys(desk, caller.subject)
    if not passkeys:
        raise SecondFactorError("no passkey is enrolled", reason=Reason.SECOND_FACTOR_MISSING)
    token, raw = challenge(
        desk.server.keyring,
        desk.server.context.issuer,
        desk.binding(caller, action, grant_id),
        Ceremony.ASSERTION,
        desk.now,
    )
    allowed = [_raw(f.credential_id) for f in passkeys]
    return PasskeyCeremony(assertion_options(desk.relying_party, raw, allowed), token)


def prove_with_totp(
    desk: FactorDesk, caller: AccessToken, action: Action, grant_id: str, code: str
) -> Proof:
    """A proof for one decision, for a current TOTP code never accepted before."""
    totps = [f for f in repository.factors_of(desk.session, caller.subject) if f.kind == TOTP]
    if not totps:
        raise SecondFactorError("no TOTP factor is enrolled", reason=Reason.SECOND_FACTOR_MISSING)
    refusals: list[SecondFactorError] = []
    for factor in totps:
        assert factor.totp_secret is not None  # a TOTP factor has its secret
        try:
            step = accepted_step(factor.totp_secret, code, desk.now, factor.last_step)
        except SecondFactorError as refusal:
            refusals.append(refusal)
            continue
        if not repository.accept_step(_engine(desk.session), factor.factor_id, step):
            raise SecondFactorError(
                "this code was already used; wait for the next one",
                reason=Reason.SECOND_FACTOR_REPLAYED,
            )
        return _proof(desk, desk.binding(caller, action, grant_id), Method.TOTP)
    raise min(refusals, key=lambda refusal: refusal.reason != Reason.SECOND_FACTOR_REPLAYED)


def prove_with_passkey(
    desk: FactorDesk,
    caller: AccessToken,
    action: Action,
    grant_id: str,
    challenge_token: str,
    credential: dict[str, Any],
) -> Proof:
    """A proof for one decision, for a passkey assertion over that decision's challenge."""
    binding = desk.binding(caller, action, grant_id)
    checked = _challenge(desk, binding, challenge_token, Ceremony.ASSERTION)
    factor = repository.passkey_of(desk.session, caller.subject, _text(credential_id(credential)))
    if factor is None:
        raise SecondFactorError(
            "the passkey is not enrolled for this account", reason=Reason.SECOND_FACTOR_INVALID
        )
    passkey = Passkey(_raw(factor.credential_id), _raw(factor.public_key), factor.sign_count)
    counted = asserted(desk.relying_party, credential, checked.challenge, passkey)
    repository.count_signature(_engine(desk.session), factor.factor_id, counted)
    return _proof(desk, binding, Method.PASSKEY)


def spend_proof(
    session: Session, server: AuthServer, binding: Binding, token: str | None, now: datetime
) -> None:
    """Accept ``token`` once, as the proof of a fresh second factor for ``binding``; raises
    :class:`consent.errors.SecondFactorError` (403, Art. 61(2)) otherwise."""
    checked = check_proof(token, server.keyring.public_keys(), server.context.issuer, binding, now)
    _spend(session, checked)


# -- recovery --------------------------------------------------------------------------------


def reset_factors(
    session: Session, audit_log: AuditLog, keys: GatewayKeys, username: str, now: datetime
) -> int:
    """The operator removes every factor of a citizen who lost the device (logged first);
    the citizen enrols anew after the next sign-in. How many factors were removed."""
    citizen = citizen_by_username(session, username)
    if citizen is None:
        raise UnknownCitizen("no citizen account with this username")
    _append(audit_log, session, keys, citizen.id, OPERATOR, RESET, "", now)
    return repository.remove_all(session, citizen.id)


# -- composition -----------------------------------------------------------------------------


def _citizen(desk: FactorDesk, caller: AccessToken) -> Citizen:
    citizen = desk.session.get(Citizen, caller.subject)
    if citizen is None:
        raise FactorNotFound("the citizen account no longer exists")
    return citizen


def _may_add(desk: FactorDesk, caller: AccessToken, second_factor: str | None) -> None:
    """The first factor needs the signed-in session only; another one a step-up."""
    if repository.factors_of(desk.session, caller.subject):
        spend_proof(
            desk.session, desk.server, desk.binding(caller, Action.ENROL), second_factor, desk.now
        )


def _passkeys(desk: FactorDesk, citizen_id: str) -> list[Factor]:
    return [f for f in repository.factors_of(desk.session, citizen_id) if f.kind == PASSKEY]


def _challenge(desk: FactorDesk, binding: Binding, token: str, ceremony: Ceremony) -> Challenge:
    keys = desk.server.keyring.public_keys()
    checked = check_challenge(token, keys, desk.server.context.issuer, binding, ceremony, desk.now)
    _spend(desk.session, checked)
    return checked


def _proof(desk: FactorDesk, binding: Binding, method: Method) -> Proof:
    token, expires_at = proof(
        desk.server.keyring, desk.server.context.issuer, binding, method, desk.now
    )
    return Proof(token, expires_at)


def _spend(session: Session, spendable: Spendable) -> None:
    try:
        SqlJtiStore(_engine(session)).remember(spendable.jti, SPENT, spendable.expires_at)
    except ReplayedAssertionError as exc:
        raise SecondFactorError(
            "this verification was already used", reason=Reason.SECOND_FACTOR_REPLAYED
        ) from exc


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    assert isinstance(bind, Engine)  # sessions are bound to the engine
    return bind


def _register(desk: FactorDesk, citizen_id: str, requester: str, reason: str, kind: str) -> None:
    _append(desk.audit_log, desk.session, desk.keys, citizen_id, requester, reason, kind, desk.now)


def _append(
    audit_log: AuditLog,
    session: Session,
    keys: GatewayKeys,
    citizen_id: str,
    requester: str,
    reason: str,
    kind: str,
    now: datetime,
) -> None:
    """A ``factor_change`` leaf, linked to the citizen's subject (their access log shows it)."""
    sealed = seal(account_subject_key(session, keys, citizen_id, now))
    event = AuditEvent(
        time_ms=int(now.timestamp() * 1000),
        kind=EventKind.FACTOR_CHANGE,
        channel=None,
        requester=requester,
        legal_basis="",
        grant_id="",
        purpose=kind,
        item_categories=frozenset(),
        outcome=Outcome.ALLOWED,
        reason_code=reason,
        subject_commitment=sealed.subject_commitment,
    )
    audit_log.append(event, sealed.openings)


def _factor(desk: FactorDesk, citizen_id: str, kind: str, label: str, **fields: Any) -> Factor:
    return Factor(
        factor_id=f"fa_{secrets.token_urlsafe(16)}",
        citizen_id=citizen_id,
        kind=kind,
        label=label.strip() or kind,
        created_at=desk.now,
        **fields,
    )


def _text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _raw(text: str | None) -> bytes:
    assert text is not None  # a passkey has its credential id and key
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
