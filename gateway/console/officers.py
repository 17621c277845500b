"""Regulator officers: enrolment and the console's sign-in with a password and a second factor.

:func:`sign_in` answers one refusal, :class:`OfficerSignInFailed`, for an unknown account, a
wrong password, a disabled account, a wrong code and a code already used, so the console never
tells which of them failed; the password check takes the same time for an unknown account
(:class:`consent.passwords.CitizenPasswords`). The TOTP code is checked as a citizen's is
(RFC 6238, :mod:`consent.rfc6238`) and accepted once (:func:`repository.accept_step`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from consent.errors import InvalidGrantError, SecondFactorError
from consent.rfc6238 import accepted_step, new_secret, provisioning_uri
from gateway.console import repository
from gateway.console.models import RegulatorOfficer
from gateway.parties.citizens import citizen_passwords
from problems import Conflict, Unauthenticated

TOTP_ISSUER = "Credit gateway oversight"


class OfficerSignInFailed(Unauthenticated):
    title = "Sign-in failed"
    slug = "officer-sign-in-failed"


class OfficerExists(Conflict):
    title = "Officer exists"
    slug = "officer-exists"


@dataclass(frozen=True)
class Enrolled:
    """A new officer, and the TOTP secret shown once to load into an authenticator."""

    officer: RegulatorOfficer
    totp_secret: str
    provisioning_uri: str


def add_officer(
    session: Session, username: str, password: str, now: datetime, totp_secret: str = ""
) -> Enrolled:
    """Enrol an officer with a new TOTP secret (or ``totp_secret``)."""
    if repository.officer_by_username(session, username) is not None:
        raise OfficerExists(f"an officer {username!r} exists")
    secret = totp_secret or new_secret()
    officer = RegulatorOfficer(
        officer_id=f"ro_{secrets.token_hex(16)}",
        username=username,
        password_hash=citizen_passwords().hash(password),
        totp_secret=secret,
        created_at=now,
    )
    repository.add(session, officer)
    return Enrolled(officer, secret, provisioning_uri(secret, username, TOTP_ISSUER))


def sign_in(
    session: Session, engine: Engine, username: str, password: str, code: str, now: datetime
) -> RegulatorOfficer:
    """The officer ``username`` if the password and the code are right and the account is
    enabled; :class:`OfficerSignInFailed` otherwise. An accepted code is spent at once."""
    refused = OfficerSignInFailed("the username, password or code is not correct")
    officer = repository.officer_by_username(session, username)
    try:
        citizen_passwords().verify(None if officer is None else officer.password_hash, password)
    except InvalidGrantError:
        raise refused from None
    assert officer is not None
    if officer.disabled:
        raise refused
    try:
        step = accepted_step(officer.totp_secret, code, now, officer.last_step)
    except SecondFactorError:
        raise refused from None
    if not repository.accept_step(engine, officer.officer_id, step):
        raise refused
    return officer


def active_officer(session: Session, officer_id: str) -> RegulatorOfficer | None:
    """The officer a session names, unless the account is gone or disabled."""
    officer = session.get(RegulatorOfficer, officer_id)
    return None if officer is None or officer.disabled else officer
