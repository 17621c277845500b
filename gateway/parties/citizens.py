"""Citizens in the gateway's own authenticated channel (Art. 39: real-name verified inquiry;
Art. 61(2): only the credit subject decides on a consent, and only here).

:func:`sign_in` checks the password with :class:`consent.passwords.CitizenPasswords`, which
answers the same, in the same time, for an unknown account and a wrong password; an account
that is not real-name verified gets that same answer too. The access token (RFC 9068) has the
citizen role, the citizen's account id as ``sub`` and ``client_id`` (so rate limits count per
citizen) and the citizen role's scopes.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlmodel import Session

from consent.clients import SCOPES_BY_ROLE, Role
from consent.errors import InvalidGrantError, InvalidTokenError
from consent.passwords import CitizenPasswords
from consent.rfc6749 import bearer_response
from consent.rfc9068 import issue_access_token
from gateway.keys import GatewayKeys
from gateway.oauth.service import AuthServer
from gateway.parties.models import Citizen
from gateway.parties.repository import citizen_by_username
from gateway.subjects import subject_key
from redaction.identifiers import IdentifierKind, SubjectIdentifier, parse_identifier


@cache
def citizen_passwords() -> CitizenPasswords:
    return CitizenPasswords()


def sign_in(
    session: Session, server: AuthServer, username: str, password: str, now: datetime
) -> dict[str, object]:
    """A citizen access token for valid credentials; ``invalid_grant`` otherwise."""
    passwords = citizen_passwords()
    citizen = citizen_by_username(session, username)
    passwords.verify(None if citizen is None else citizen.password_hash, password)
    assert citizen is not None  # verify raised for an unknown account
    if not citizen.real_name_verified:
        raise InvalidGrantError("invalid username or password")
    if passwords.needs_rehash(citizen.password_hash):
        citizen.password_hash = passwords.hash(password)
        session.add(citizen)
    token, access = issue_access_token(
        server.keyring,
        server.context,
        client_id=citizen.id,
        subject=citizen.id,
        role=Role.CITIZEN,
        scope=SCOPES_BY_ROLE[Role.CITIZEN],
        now=now,
    )
    return bearer_response(token, access)


def citizen_identifier(session: Session, citizen_id: str, now: datetime) -> SubjectIdentifier:
    """The archive index (Art. 34) of the credit subject a citizen account belongs to."""
    citizen = session.get(Citizen, citizen_id)
    if citizen is None:
        raise InvalidTokenError("the citizen account no longer exists")
    return parse_identifier(IdentifierKind.ID_NUMBER, citizen.id_number, on=now.date())


def citizen_subject_key(session: Session, keys: GatewayKeys, citizen_id: str, now: datetime) -> str:
    """The internal key of the credit subject a citizen account belongs to."""
    return subject_key(keys, citizen_identifier(session, citizen_id, now))
